// Privacy invariants about what an anonymized branch still holds (DESIGN §6.3,
// §6.4, §6.7): no original value anywhere in its pages, statistics or
// materialized views; no audit-trigger copy of the originals; and no secret in
// any log line or API response. Scans run as the test cluster's superuser,
// which sees more than any branch user ever could.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { startHarness, waitFor, type Harness } from "./helpers/harness.ts";
import { connect, testServerUrl } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;
let projectId: string;
/** Values of the masked columns in the parent now, and the ones its dead tuples still carry. */
const originals = { current: [] as string[], earlier: [] as string[] };
const branchPasswords: string[] = [];
const sourceUris: string[] = [];
const responseBodies: string[] = [];
const ADMIN_PASSWORD = "S3cret-Admin-Pass";

/** Every API call of this file goes through here, so every response body can be searched for secrets. */
async function api(method: string, path: string, body?: unknown) {
  const res = await h.request(method, path, body);
  responseBodies.push(typeof res.body === "string" ? res.body : JSON.stringify(res.body));
  return res;
}

const maskRules = (database: string) => [
  { database_name: database, schema_name: "public", table_name: "users", column_name: "email", masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')" },
  { database_name: database, schema_name: "public", table_name: "users", column_name: "phone", masking_function: "anon.partial(phone, 2, 'XXX-XXXX', 2)" },
  { database_name: database, schema_name: "public", table_name: "users", column_name: "address", masking_value: "'CONFIDENTIAL'" },
];

/** Creates an anonymized branch, waits for `anonymized`, keeps its password for the log sweep. */
async function anonymizedBranch(project: string, database: string, name: string) {
  const res = await api("POST", `/projects/${project}/branch_anonymized`, {
    branch_create: { branch: { name } }, masking_rules: maskRules(database), start_anonymization: true,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const id = res.body.branch.id as string;
  const role = res.body.roles[0].name as string;
  const final = await waitFor(
    async () => (await api("GET", `/projects/${project}/branches/${id}/anonymized_status`)).body,
    (s) => ["anonymized", "error", "initialization_error"].includes(s.state),
  );
  assert.equal(final.state, "anonymized", final.status_message);
  const reveal = await api("GET", `/projects/${project}/branches/${id}/roles/${role}/reveal_password`);
  assert.equal(reveal.status, 200, JSON.stringify(reveal.body));
  branchPasswords.push(reveal.body.password);
  const prefix = `${id.replaceAll("-", "_")}__`;
  const [db] = await admin((sql) => sql`SELECT datname FROM pg_database WHERE left(datname, length(${prefix})) = ${prefix}`);
  assert.ok(db, `no physical database for ${id}`);
  return { id, role, physical: db.datname as string, password: reveal.body.password as string };
}

async function admin<T>(fn: (sql: ReturnType<typeof connect>) => Promise<T>, database = "postgres"): Promise<T> {
  const sql = connect(testServerUrl(database), { max: 1 });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

/**
 * Finds which needles occur in a text. Needles are bucketed by their first 12
 * characters, so one pass over the text checks thousands of them.
 */
function finder(needles: string[]) {
  const K = 12;
  const buckets = new Map<string, Map<number, Set<string>>>();
  for (const n of needles) {
    assert.ok(n.length >= K, `needle too short to be distinctive: ${n}`);
    const byLength = buckets.get(n.slice(0, K)) ?? new Map<number, Set<string>>();
    byLength.set(n.length, (byLength.get(n.length) ?? new Set()).add(n));
    buckets.set(n.slice(0, K), byLength);
  }
  return (text: string): string[] => {
    const found = new Set<string>();
    for (let i = 0; i + K <= text.length; i++) {
      const bucket = buckets.get(text.slice(i, i + K));
      if (!bucket) continue;
      for (const [length, set] of bucket) if (set.has(text.slice(i, i + length))) found.add(text.slice(i, i + length));
    }
    return [...found];
  };
}

/**
 * Reads, as superuser with pageinspect, every block of the given tables, their
 * TOAST tables, every index on them, and every materialized view (and its
 * indexes); plus pg_stats and the materialized views' rows. Raw pages are read
 * whole: they hold every tuple heap_page_items would list (live and dead,
 * t_data) and also whatever bytes remain in free space. Returns the needles
 * found, by place.
 */
async function scan(database: string, tables: string[], needles: string[]): Promise<Record<string, string[]>> {
  const find = finder(needles);
  const hits: Record<string, string[]> = {};
  const record = (where: string, text: string) => {
    const found = find(text);
    if (found.length > 0) hits[where] = [...(hits[where] ?? []), ...found];
  };
  await admin(async (sql) => {
    await sql`CREATE EXTENSION IF NOT EXISTS pageinspect`;
    const rels = await sql`
      WITH base AS (
        SELECT c.oid, CASE WHEN c.relkind = 'm' THEN 'matview' ELSE 'table' END AS category
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE (n.nspname = 'public' AND c.relname = ANY(${tables}) AND c.relkind IN ('r', 'p')) OR c.relkind = 'm'),
      heaps AS (
        SELECT oid, category, 'heap' AS kind FROM base
        UNION ALL SELECT c.reltoastrelid, b.category, 'toast' FROM base b JOIN pg_class c ON c.oid = b.oid WHERE c.reltoastrelid <> 0),
      rels AS (
        SELECT * FROM heaps
        UNION ALL SELECT i.indexrelid, h.category, 'index' FROM heaps h JOIN pg_index i ON i.indrelid = h.oid)
      SELECT r.oid::regclass::text AS name, r.category, r.kind,
             (pg_relation_size(r.oid) / current_setting('block_size')::int)::int AS blocks
      FROM rels r`;
    assert.ok(rels.some((r) => r.kind === "index") && rels.some((r) => r.category === "matview"), JSON.stringify(rels));
    for (const r of rels) {
      const pages = await sql`SELECT get_raw_page(${r.name}, 'main', blk) AS page FROM generate_series(0, ${r.blocks - 1}::int) blk`;
      record(`${r.category} ${r.kind} ${r.name}`, Buffer.concat(pages.map((p) => p.page as Buffer)).toString("latin1"));
    }
    const stats = await sql`
      SELECT tablename || '.' || attname AS col,
             concat_ws(' ', most_common_vals::text, histogram_bounds::text, most_common_elems::text) AS t
      FROM pg_stats WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`;
    for (const s of stats) record(`stats pg_stats ${s.col}`, s.t);
    const views = await sql`SELECT oid::regclass::text AS name FROM pg_class WHERE relkind = 'm'`;
    for (const v of views) {
      const rows = await sql.unsafe(`SELECT string_agg(t::text, '|') AS t FROM ${v.name} t`);
      record(`matview rows ${v.name}`, rows[0]?.t ?? "");
    }
  }, database);
  return hits;
}

const summary = (hits: Record<string, string[]>) =>
  Object.entries(hits).map(([where, found]) => `${where}: ${found.length} (e.g. ${found.slice(0, 2).join(", ")})`);

before(async () => {
  shop = await createShop(3000, "secleak");
  const old = await shop.query((sql) => sql`SELECT email, phone, address FROM users`);
  originals.earlier = old.flatMap((r) => [r.email, r.phone, r.address]);
  // Long, distinctive values; the UPDATE also leaves the older ones in dead
  // tuples, which CREATE DATABASE … TEMPLATE copies into every branch.
  await shop.query((sql) => sql.unsafe(`
    UPDATE users SET email = format('private.person%s.%s@confidential-mail.example', id, md5('e' || id)),
                     phone = format('+33-6-%s-%s', lpad(id::text, 8, '0'), left(md5('p' || id), 8)),
                     address = format('%s Rue Secrete, apt %s, 75001 Paris', id, left(md5('a' || id), 10));
    CREATE INDEX users_phone_idx ON users (phone);
    CREATE INDEX users_lower_email_idx ON users (lower(email));
    CREATE MATERIALIZED VIEW user_emails AS SELECT id, email FROM users;
    CREATE UNIQUE INDEX user_emails_email_idx ON user_emails (email);
    CREATE TABLE users_history (changed_at timestamptz NOT NULL, old_row jsonb NOT NULL);
    CREATE FUNCTION log_user_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO public.users_history VALUES (now(), to_jsonb(OLD)); RETURN NULL; END $$;
    CREATE TRIGGER users_audit AFTER UPDATE ON users FOR EACH ROW EXECUTE FUNCTION log_user_change();
    ANALYZE;`));
  const now = await shop.query((sql) => sql`SELECT email, phone, address FROM users`);
  originals.current = now.flatMap((r) => [r.email, r.phone, r.address]);
  h = await startHarness();
  sourceUris.push(testServerUrl("postgres"));
  const res = await api("POST", "/projects", {
    project: { name: "security-leaks", source: { connection_uri: testServerUrl("postgres"), databases: [shop.name] } },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  projectId = res.body.project.id;
});

after(async () => {
  await h?.close();
  await shop?.drop();
});

test("no original value of a masked column is left in the branch's pages, indexes, statistics or materialized views", async (t) => {
  const branch = await anonymizedBranch(projectId, shop.name, "leak-scan");
  const all = [...originals.current, ...originals.earlier];
  const inBranch = await scan(branch.physical, ["users"], all);
  assert.deepEqual(summary(inBranch), [], "original values found in the anonymized branch");

  // Control: the same scan on the parent finds the current values in every kind of place.
  const inParent = await scan(shop.name, ["users"], originals.current);
  t.diagnostic(`control scan of the parent: ${summary(inParent).join("; ")}`);
  const places = Object.keys(inParent);
  for (const kind of ["table heap", "table index", "matview heap", "matview index", "matview rows", "stats"]) {
    assert.ok(places.some((p) => p.startsWith(kind)), `the control scan found nothing in ${kind}: ${places.join("; ")}`);
  }
});

test("an audit trigger on a masked table records nothing during masking and stays enabled", async () => {
  const history = (sql: ReturnType<typeof connect>) => sql`SELECT count(*)::int AS n, coalesce(string_agg(old_row::text, '|'), '') AS t FROM users_history`;
  const [parent] = await shop.query(history);
  assert.equal(parent!.n, 0, "control: the parent's history is empty, so the clone's starts empty");

  const branch = await anonymizedBranch(projectId, shop.name, "audit");
  const [row] = await admin(history, branch.physical);
  assert.deepEqual(finder([...originals.current, ...originals.earlier])(row!.t), [], "original values in users_history");
  assert.equal(row!.n, 0, "masking wrote rows into users_history");
  const [trigger] = await admin((sql) => sql`SELECT tgenabled FROM pg_trigger WHERE tgname = 'users_audit'`, branch.physical);
  assert.equal(trigger!.tgenabled, "O", "the trigger is enabled again after the run");

  // And it works for the branch's user: an update is recorded, with masked values only.
  const uri = await api("GET", `/projects/${projectId}/connection_uri?branch_id=${branch.id}&database_name=${shop.name}&role_name=${branch.role}`);
  assert.equal(uri.status, 200, JSON.stringify(uri.body));
  const sql = connect(uri.body.uri, { max: 1 });
  try {
    await sql`UPDATE users SET name = name WHERE id = 1`;
    const [after] = await history(sql);
    assert.equal(after!.n, 1);
    assert.match(after!.t, /"email": "[0-9a-f-]{36}@example\.com"/);
  } finally {
    await sql.end();
  }
});

test("no branch password, source URI or admin password appears in a log line or an API response", async () => {
  // A second project whose admin URI carries a password in its userinfo.
  const shop2 = await createShop(200, "secleak2");
  const role = `admin2_${randomBytes(3).toString("hex")}`;
  await admin((sql) => sql.unsafe(`CREATE ROLE ${role} SUPERUSER LOGIN PASSWORD '${ADMIN_PASSWORD}'`));
  try {
    const port = new URL(testServerUrl()).port;
    const uri2 = `postgresql://${role}:${ADMIN_PASSWORD}@127.0.0.1:${port}/postgres`;
    sourceUris.push(uri2);
    // Registrations that fail: unknown database, unknown role, nothing listening, not a URI.
    const refused: [string, string[]][] = [
      [uri2, ["nosuchdb"]],
      [`postgresql://nosuchrole:${ADMIN_PASSWORD}@127.0.0.1:${port}/postgres`, [shop2.name]],
      [`postgresql://${role}:${ADMIN_PASSWORD}@127.0.0.1:1/postgres`, [shop2.name]],
      [`postgresql://${role}:${ADMIN_PASSWORD}@127.0.0.1:notaport/postgres`, [shop2.name]],
    ];
    for (const [connection_uri, databases] of refused) {
      const res = await api("POST", "/projects", { project: { name: "p2", source: { connection_uri, databases } } });
      assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${JSON.stringify(res.body)}`);
    }
    const res = await api("POST", "/projects", { project: { name: "p2", source: { connection_uri: uri2, databases: [shop2.name] } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const p2 = res.body.project.id as string;
    const main = res.body.branch.id as string;
    for (const path of [`/projects/${p2}`, "/projects", `/projects/${p2}/branches`, `/projects/${p2}/branches/${main}`,
      `/projects/${p2}/branches/${main}/roles`, `/projects/${p2}/branches/${main}/endpoints`, `/projects/${p2}/audit_log`,
      `/projects/${projectId}/audit_log`]) {
      const r = await api("GET", path);
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    }
    const b = await anonymizedBranch(p2, shop2.name, "p2-branch");
    const uri = await api("GET", `/projects/${p2}/connection_uri?branch_id=${b.id}&database_name=${shop2.name}&role_name=${b.role}`);
    assert.equal(uri.status, 200, JSON.stringify(uri.body));
    assert.equal(decodeURIComponent(new URL(uri.body.uri).password), b.password);
    // A run that fails on the data plane: its error travels to status, operation and logs.
    await shop2.query((sql) => sql`ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0)`);
    const bad = await api("POST", `/projects/${p2}/branch_anonymized`, {
      masking_rules: [{ database_name: shop2.name, schema_name: "public", table_name: "orders", column_name: "total", masking_value: "-1" }],
      start_anonymization: true,
    });
    assert.equal(bad.status, 201, JSON.stringify(bad.body));
    const failed = await waitFor(
      async () => (await api("GET", `/projects/${p2}/branches/${bad.body.branch.id}/anonymized_status`)).body,
      (s) => ["anonymized", "error", "initialization_error"].includes(s.state),
    );
    assert.equal(failed.state, "error", failed.status_message);
    await api("GET", `/projects/${p2}/operations/${bad.body.operations[0].id}`);
  } finally {
    await shop2.drop();
  }

  const logFile = process.env.ANONBRANCH_TEST_PG_LOG;
  assert.ok(logFile, "ANONBRANCH_TEST_PG_LOG is not set");
  const serverLog = readFileSync(logFile, "utf8");
  const appLog = h.logs.join("\n");
  assert.ok(appLog.length > 0 && branchPasswords.length >= 3);
  const leaks: string[] = [];
  for (const secret of [...branchPasswords, ...sourceUris, ADMIN_PASSWORD]) {
    if (appLog.includes(secret)) leaks.push(`app log: ${secret}`);
    if (serverLog.includes(secret)) leaks.push(`PostgreSQL log: ${secret}`);
  }
  for (const body of responseBodies) if (body.includes(ADMIN_PASSWORD)) leaks.push(`API response: ${body.slice(0, 300)}`);
  assert.deepEqual(leaks, []);
});
