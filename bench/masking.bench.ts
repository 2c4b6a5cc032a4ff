// Cost of masking functions in anon.anonymize_table() on one column, against
// the same UPDATE writing a constant.
import { createScratchDatabase } from "../test/helpers/pg.ts";
import { compare } from "./harness.ts";

const rows = Number(process.env.BENCH_ROWS ?? 50_000);
const db = await createScratchDatabase("bench_mask");
await db.sql.unsafe(`
  CREATE EXTENSION anon CASCADE;
  CREATE TABLE users (id serial PRIMARY KEY, email text, phone text);
  INSERT INTO users (email, phone) SELECT 'u' || g || '@x.test', '06' || lpad(g::text, 8, '0') FROM generate_series(1, ${rows}) g;
`);
const masked = (expression: string) => async () => {
  await db.sql.unsafe(`SECURITY LABEL FOR anon ON COLUMN users.email IS 'MASKED WITH FUNCTION ${expression.replaceAll("'", "''")}'`);
  await db.sql`SELECT anon.anonymize_table('users')`;
};
await compare(
  `anonymize_table on ${rows} rows, one column`,
  { name: "MASKED WITH VALUE 'x' (constant)", run: masked("'x'") },
  [
    { name: "anon.fake_email()", run: masked("anon.fake_email()") },
    { name: "anon.dummy_free_email()", run: masked("anon.dummy_free_email()") },
    { name: "concat(anon.dummy_uuidv4(), '@example.com')", run: masked("pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')") },
    { name: "anon.partial(email, 2, '***', 4)", run: masked("anon.partial(email, 2, '***', 4)") },
    { name: "anon.pseudo_email(id)", run: masked("anon.pseudo_email(id)") },
  ],
  3,
);
await db.drop();
