// Clone strategies for CREATE DATABASE … TEMPLATE on a ~50 MB parent:
// FILE_COPY (the default) against WAL_LOG (PostgreSQL 15's default).
import { createScratchDatabase, connect, testServerUrl } from "../test/helpers/pg.ts";
import { compare } from "./harness.ts";

const rows = Number(process.env.BENCH_ROWS ?? 200_000);
const parent = await createScratchDatabase("bench_parent");
await parent.sql.unsafe(`
  CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE, note text);
  INSERT INTO users (email, note) SELECT 'u' || g || '@x.test', repeat('n', 150) FROM generate_series(1, ${rows}) g;
`);
const [size] = await parent.sql`SELECT pg_size_pretty(pg_database_size(current_database())) AS s`;
await parent.sql.end();
const admin = connect(testServerUrl(), { max: 1 });
let n = 0;
const clone = (strategy: string) => async () => {
  const name = `bench_clone_${n++}`;
  await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${parent.name} STRATEGY ${strategy}`);
  await admin.unsafe(`DROP DATABASE ${name}`);
};
console.log(`parent: ${rows} rows, ${size!.s}`);
await compare("clone + drop", { name: "STRATEGY FILE_COPY", run: clone("FILE_COPY") }, [
  { name: "STRATEGY WAL_LOG", run: clone("WAL_LOG") },
]);
await admin.end();
await parent.drop();
