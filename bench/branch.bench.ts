// A masked branch end to end: POST branch_anonymized → `anonymized` through
// the real app and worker, against the best a user could do by hand with
// PostgreSQL Anonymizer on the same server in the same run (the floor):
//   CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY; the three labels;
//   SELECT anon.anonymize_database(); VACUUM (FULL, ANALYZE) users.
// Alternated, medians, per phase. Sizes: BENCH_USERS (default 1,000,000;
// orders are twice as many), BENCH_ROUNDS (default 3).
import { randomBytes } from "node:crypto";
import { startHarness, waitFor } from "../test/helpers/harness.ts";
import { connect, testServerUrl } from "../test/helpers/pg.ts";

const users = Number(process.env.BENCH_USERS ?? 1_000_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const parent = `bench_parent_${randomBytes(3).toString("hex")}`;
const admin = connect(testServerUrl(), { max: 1 });

console.log(`\nbuilding the parent: users ${users.toLocaleString()} rows, orders ${(2 * users).toLocaleString()} rows …`);
await admin.unsafe(`CREATE DATABASE ${parent}`);
const p = connect(testServerUrl(parent), { max: 1 });
await p.unsafe(`
  CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, phone text, name text, address text);
  CREATE TABLE orders (id bigint PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), total numeric(10,2), note text);
  INSERT INTO users SELECT g, 'customer' || g || '@shop.example', '+33 6 ' || lpad(g::text, 8, '0'),
                           'Customer ' || g, g || ' rue de la Paix, Paris' FROM generate_series(1, ${users}) g;
  INSERT INTO orders SELECT g, 1 + g % ${users}, (g % 500) + 0.99, 'order ' || g FROM generate_series(1, ${2 * users}) g;`);
await p.unsafe("VACUUM ANALYZE");
const [size] = await p`SELECT pg_size_pretty(pg_database_size(current_database())) AS s`;
await p.end();
console.log(`parent ${parent}: ${size!.s}`);

const email = "pg_catalog.concat(pg_catalog.md5(email), '@example.com')";
const phone = "anon.partial(phone, 2, 'XXX-XXXX', 2)";
const rule = (column: string, fn: Record<string, string>) => ({
  database_name: parent, schema_name: "public", table_name: "users", column_name: column, ...fn,
});
const rules = [rule("email", { masking_function: email }), rule("phone", { masking_function: phone }), rule("address", { masking_value: "'CONFIDENTIAL'" })];

type Phases = Record<string, number> & { total: number };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The floor: the same work by hand on the same server. */
async function byHand(): Promise<Phases> {
  const name = `bench_hand_${randomBytes(3).toString("hex")}`;
  const t0 = performance.now();
  await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${parent} STRATEGY FILE_COPY`);
  const t1 = performance.now();
  const db = connect(testServerUrl(name), { max: 1 });
  await db.unsafe(`CREATE EXTENSION anon CASCADE; SELECT anon.init();
    SECURITY LABEL FOR anon ON COLUMN users.email IS 'MASKED WITH FUNCTION ${email.replaceAll("'", "''")}';
    SECURITY LABEL FOR anon ON COLUMN users.phone IS 'MASKED WITH FUNCTION ${phone.replaceAll("'", "''")}';
    SECURITY LABEL FOR anon ON COLUMN users.address IS 'MASKED WITH VALUE ''CONFIDENTIAL''';`);
  const t2 = performance.now();
  await db.unsafe("SELECT anon.anonymize_database()");
  const t3 = performance.now();
  await db.unsafe("VACUUM (FULL, ANALYZE) users");
  const t4 = performance.now();
  await db.end();
  await admin.unsafe(`DROP DATABASE ${name}`);
  return { total: t4 - t0, clone: t1 - t0, labels: t2 - t1, masking: t3 - t2, hardening: t4 - t3 };
}

const h = await startHarness({ endpoints: false });
const projectId = (await h.registerProject([parent], "bench", rules)).projectId;

/** anonbranch: phases from status_message as the worker reports them. */
async function throughAnonbranch(): Promise<Phases> {
  const t0 = performance.now();
  const res = await h.request("POST", `/projects/${projectId}/branch_anonymized`, { masking_rules: rules, start_anonymization: true });
  if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${JSON.stringify(res.body)}`);
  const id = res.body.branch.id as string;
  const seen: Record<string, number> = { pickup: performance.now() - t0 };
  const phaseOf = (m: string) =>
    m.startsWith("Waiting for a worker") ? "pickup" : m.startsWith("Cloning") ? "clone" : m.startsWith("Installing anon") ? "labels"
    : m.startsWith("Anonymizing") || m.startsWith("Preparing") || m.startsWith("Initialized") ? "masking" : m.startsWith("Opening") ? "grant" : null;
  const final = await waitFor(
    async () => {
      const s = (await h.request("GET", `/projects/${projectId}/branches/${id}/anonymized_status`)).body;
      const phase = phaseOf(s.status_message ?? "");
      if (phase && seen[phase] === undefined) seen[phase] = performance.now() - t0;
      return s;
    },
    (s) => ["anonymized", "error", "initialization_error"].includes(s.state),
    3_600_000,
  );
  const total = performance.now() - t0;
  if (final.state !== "anonymized") throw new Error(`branch ended ${final.state}: ${final.status_message}`);
  const paths = (final.last_run?.tables ?? []).map((t: { table: string; path: string }) => `${t.table}:${t.path}`).join(" ");
  await h.request("DELETE", `/projects/${projectId}/branches/${id}`);
  await waitFor(async () => (await admin`SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE ${`${id.replaceAll("-", "_")}%`}`)[0]!.n as number, (n) => n === 0, 120_000);
  // Each phase lasts from its first sighting to the next phase's (phases too short to be seen count 0).
  const order = ["pickup", "clone", "labels", "masking", "grant"];
  const seenAt = order.filter((k) => seen[k] !== undefined);
  const phases: Phases = { total };
  for (const k of order) phases[k] = 0;
  seenAt.forEach((k, i) => (phases[k] = (i + 1 < seenAt.length ? seen[seenAt[i + 1]!]! : total) - seen[k]!));
  return { ...phases, paths: paths as unknown as number };
}

const samples: { hand: Phases[]; ours: Phases[] } = { hand: [], ours: [] };
await byHand(); // warm the server's caches for both
for (let r = 0; r < rounds; r++) {
  samples.hand.push(await byHand());
  samples.ours.push(await throughAnonbranch());
  console.log(`  round ${r + 1}: by hand ${(samples.hand.at(-1)!.total / 1000).toFixed(2)} s, anonbranch ${(samples.ours.at(-1)!.total / 1000).toFixed(2)} s`);
}
const phaseLine = (ps: Phases[]) =>
  Object.keys(ps[0]!).filter((k) => k !== "total" && k !== "paths").map((k) => `${k} ${(median(ps.map((x) => x[k]!)) / 1000).toFixed(2)} s`).join(", ");
const hand = median(samples.hand.map((x) => x.total));
const ours = median(samples.ours.map((x) => x.total));
console.log(`\nmasked branch, ${users.toLocaleString()} users + ${(2 * users).toLocaleString()} orders (median of ${rounds})`);
console.log(`  by hand (floor): TEMPLATE + labels + anonymize_database + VACUUM FULL   ${(hand / 1000).toFixed(2)} s   1.00x (baseline)`);
console.log(`    ${phaseLine(samples.hand)}`);
console.log(`  anonbranch: POST branch_anonymized → anonymized                        ${(ours / 1000).toFixed(2)} s   ${(ours / hand).toFixed(2)}x`);
console.log(`    ${phaseLine(samples.ours)}`);
console.log(`    paths: ${samples.ours.at(-1)!.paths}`);

await h.close();
await admin.unsafe(`DROP DATABASE ${parent} WITH (FORCE)`);
await admin.end();
