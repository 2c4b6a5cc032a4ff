// Security invariants about who can reach what (DESIGN §4, §5, §6.1, §6.2,
// §6.4), driven through the real app + worker and checked on the real
// PostgreSQL as the roles a user (or an attacker) would actually use.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { startHarness, waitFor, type Harness } from "./helpers/harness.ts";
import { connect, testServerUrl, type Sql } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;
let admin: Sql; // superuser on the `postgres` database (never on the parent: it must stay idle to be cloned)
let projectId: string;
let parentBefore: Map<string, string>;
// Roles are cluster-wide and test files run in parallel: suffix them.
const suffix = randomBytes(3).toString("hex");
const reader = `parent_reader_${suffix}`;
const parentOwner = `parent_owner_${suffix}`;

const rule = (table: string, column: string, fn: Record<string, unknown>) => ({
  database_name: shop.name, schema_name: "public", table_name: table, column_name: column, ...fn,
});
const maskRules = () => [
  rule("users", "email", { masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')" }),
  rule("users", "phone", { masking_function: "anon.partial(phone, 2, 'XXX-XXXX', 2)" }),
  rule("users", "address", { masking_value: "'CONFIDENTIAL'" }),
];
const path = (branchId: string, rest = "") => `/projects/${projectId}/branches/${branchId}${rest}`;
const stem = (branchId: string) => branchId.replaceAll("-", "_");
const isTerminal = (s: string) => ["anonymized", "error", "initialization_error"].includes(s);

async function status(branchId: string) {
  const res = await h.request("GET", path(branchId, "/anonymized_status"));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { state: string; status_message: string };
}
const settle = (branchId: string) => waitFor(() => status(branchId), (s) => isTerminal(s.state));

async function createBranch(body: Record<string, unknown>) {
  const res = await h.request("POST", `/projects/${projectId}/branch_anonymized`, body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.branch.id as string, role: res.body.roles[0].name as string };
}

async function anonymizedBranch(name: string) {
  const b = await createBranch({ branch_create: { branch: { name } }, masking_rules: maskRules(), start_anonymization: true });
  const final = await settle(b.id);
  assert.equal(final.state, "anonymized", final.status_message);
  return b;
}

const uriPath = (branchId: string, role: string) =>
  `/projects/${projectId}/connection_uri?branch_id=${branchId}&database_name=${shop.name}&role_name=${role}`;

/** The branch's physical databases as they exist right now (prefix br_…__). */
async function branchDatabases(branchId: string): Promise<string[]> {
  const prefix = `${stem(branchId)}__`;
  const rows = await admin`SELECT datname FROM pg_database WHERE left(datname, length(${prefix})) = ${prefix} ORDER BY 1`;
  return rows.map((r) => r.datname as string);
}

type Attempt = { ok: true } | { ok: false; code: string; message: string };

/** Connects as `role` on 127.0.0.1, where every role but the admin gives a password. */
async function tryConnect(database: string, role: string, password = ""): Promise<Attempt> {
  const url = new URL(testServerUrl(database));
  url.username = role;
  url.password = password;
  return attemptOn(connect(url.toString(), { max: 1, connect_timeout: 5 }));
}

// What PostgreSQL says when it refuses a connection for lack of access (or
// before the database/role exists, or while connections are not allowed yet,
// or to a role that cannot log in), and what an endpoint says until the
// branch is anonymized.
const REFUSED = /permission denied for database|does not exist|not currently accepting connections|not permitted to log in|password authentication failed|is not anonymized yet|is being anonymized/;

/** Ownership and grants of the parent: its pg_database row and, inside it, relations, schemas, functions. */
async function snapshotParent(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const [db] = await admin`
    SELECT concat_ws(' ', datdba::regrole, coalesce(datacl::text, 'default'), datallowconn) AS v
    FROM pg_database WHERE datname = ${shop.name}`;
  out.set("database", db!.v);
  const rows = await shop.query((sql) => sql`
    SELECT 'relation ' || n.nspname || '.' || c.relname AS k,
           concat_ws(' ', c.relkind, c.relowner::regrole, coalesce(c.relacl::text, 'default')) AS v
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname !~ '^pg_(toast_)?temp_'
    UNION ALL
    SELECT 'schema ' || nspname, concat_ws(' ', nspowner::regrole, coalesce(nspacl::text, 'default'))
    FROM pg_namespace WHERE nspname !~ '^pg_(toast_)?temp_'
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text, concat_ws(' ', p.proowner::regrole, coalesce(p.proacl::text, 'default'))
    FROM pg_proc p`);
  for (const r of rows) out.set(r.k, r.v);
  return out;
}

function diff(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k) ?? "(absent)"} → ${b.get(k) ?? "(absent)"}`);
}

before(async () => {
  shop = await createShop(3000, "secacc");
  admin = connect(testServerUrl(), { max: 1 });
  // A parent owned by an ordinary role (so REASSIGN OWNED or ALTER … OWNER
  // mistakes show), readable by a login role, with CONNECT not granted to PUBLIC.
  await admin.unsafe(`CREATE ROLE ${parentOwner} NOLOGIN; CREATE ROLE ${reader} LOGIN PASSWORD 'reader-pass'`);
  await admin.unsafe(`ALTER DATABASE ${shop.name} OWNER TO ${parentOwner}`);
  await admin.unsafe(`REVOKE CONNECT ON DATABASE ${shop.name} FROM PUBLIC; GRANT CONNECT ON DATABASE ${shop.name} TO ${reader}`);
  await shop.query((sql) =>
    sql.unsafe(`ALTER TABLE users OWNER TO ${parentOwner}; ALTER TABLE orders OWNER TO ${parentOwner};
                GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${reader}`),
  );
  h = await startHarness();
  const res = await h.request("POST", "/projects", {
    project: { name: "security-access", source: { connection_uri: testServerUrl("postgres"), databases: [shop.name] } },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  projectId = res.body.project.id;
  parentBefore = await snapshotParent(); // before any branch exists
});

after(async () => {
  await h?.close();
  await shop?.drop();
  await admin?.unsafe(`DROP ROLE IF EXISTS ${reader}; DROP ROLE IF EXISTS ${parentOwner}`).catch(() => {});
  await admin?.end();
});

test("nobody but the worker connects to a branch database before it is anonymized", async (t) => {
  // Control: the reader really can read the parent, so a refusal below is about the branch.
  assert.deepEqual(await tryConnect(shop.name, reader, "reader-pass"), { ok: true });

  // Without start_anonymization the branch rests in `initialized` until we ask:
  // that is the window where a clone full of original data exists.
  const { id, role } = await createBranch({ branch_create: { branch: { name: "gate" } }, masking_rules: maskRules() });
  // Everything a client has at once: the endpoint URI and the logical role's password.
  const credentials = await h.request("GET", uriPath(id, role));
  assert.equal(credentials.status, 200, JSON.stringify(credentials.body));
  const endpointUri = credentials.body.uri as string;
  const password = decodeURIComponent(new URL(endpointUri).password);
  // And every role of the branch on the server, with that password.
  const physicalRoles = [`${stem(id)}_owner`, `${stem(id)}_mask`, `${stem(id)}_c0`, role];
  const expected = `${stem(id)}__${shop.name}`;
  const counts: Record<string, { attempts: number; onExistingDb: number }> = {};
  const violations: string[] = [];
  let anonymizeRequested = false;
  const deadline = Date.now() + 120_000;
  for (;;) {
    assert.ok(Date.now() < deadline, `timed out; attempts so far ${JSON.stringify(counts)}`);
    const before = (await status(id)).state;
    if (before === "anonymized") break;
    assert.ok(!isTerminal(before), `branch ended in ${before}`);
    const existing = await branchDatabases(id);
    const results: { db: string; who: string; exists: boolean; r: Attempt }[] = [];
    for (const db of new Set([expected, ...existing])) {
      results.push({ db, who: reader, exists: existing.includes(db), r: await tryConnect(db, reader, "reader-pass") });
      for (const who of physicalRoles) results.push({ db, who, exists: existing.includes(db), r: await tryConnect(db, who, password) });
    }
    const through = connect(endpointUri, { max: 1, connect_timeout: 5 });
    results.push({ db: "endpoint", who: role, exists: existing.length > 0, r: await attemptOn(through) });
    // The state read after the attempts: if it is still not `anonymized`, every
    // attempt above happened before the branch was anonymized.
    const after = await status(id);
    const afterState = after.state;
    for (const { db, who, r } of results) {
      if (r.ok) {
        if (afterState !== "anonymized" || db !== "endpoint") violations.push(`${who} connected to ${db} (state ${before} → ${afterState})`);
      } else {
        assert.match(r.message, REFUSED, `unexpected failure for ${who} on ${db}: ${r.code} ${r.message}`);
      }
    }
    const key = before === afterState ? before : `${before}→${afterState}`;
    const c = (counts[key] ??= { attempts: 0, onExistingDb: 0 });
    c.attempts += results.length;
    c.onExistingDb += results.filter((x) => x.exists).length;
    if (!anonymizeRequested && afterState === "initialized" && c.onExistingDb >= 12) {
      const run = await h.request("POST", path(id, "/anonymize"));
      assert.equal(run.status, 200, JSON.stringify(run.body));
      anonymizeRequested = true;
    }
    await delay(50); // poll interval, not a wait for an outcome
  }
  t.diagnostic(`connection attempts by state: ${JSON.stringify(counts)}`);
  assert.deepEqual(violations, [], "connections that succeeded before the branch was anonymized");
  const preAnonymized = Object.entries(counts).filter(([k]) => ["initialized", "anonymizing"].includes(k));
  assert.ok(preAnonymized.some(([, c]) => c.onExistingDb > 0), `no attempt while the clone existed: ${JSON.stringify(counts)}`);

  // Anonymized: the branch's user gets in through the endpoint, nobody else anywhere.
  const branch = connect(endpointUri, { max: 1 });
  try {
    const [row] = await branch`SELECT count(*)::int AS n FROM users`;
    assert.equal(row!.n, 3000);
  } finally {
    await branch.end();
  }
  for (const db of await branchDatabases(id)) {
    const r = await tryConnect(db, reader, "reader-pass");
    assert.ok(!r.ok && /permission denied for database/.test(r.message), `${reader} on ${db}: ${JSON.stringify(r)}`);
    for (const who of physicalRoles) {
      const direct = await tryConnect(db, who, password);
      assert.ok(!direct.ok, `${who} on ${db} directly`);
    }
  }
  for (const who of physicalRoles) {
    const toParent = await tryConnect(shop.name, who, password);
    assert.ok(!toParent.ok && REFUSED.test(toParent.message), `branch role ${who} on parent: ${JSON.stringify(toParent)}`);
  }
});

/** Runs one query on `sql`, then ends it: whether the connection was admitted. */
async function attemptOn(sql: Sql): Promise<Attempt> {
  try {
    await sql`SELECT 1`;
    return { ok: true };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { ok: false, code: e.code ?? "?", message: e.message ?? String(error) };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

test("the parent's ownership and grants are unchanged by branching, anonymizing and deleting", async () => {
  const { id, role } = await anonymizedBranch("ownership");
  assert.deepEqual(diff(parentBefore, await snapshotParent()), [], "after creation and anonymization");
  const del = await h.request("DELETE", path(id));
  assert.equal(del.status, 200, JSON.stringify(del.body));
  await waitFor(
    async () => ({ dbs: await branchDatabases(id), roles: (await admin`SELECT 1 FROM pg_roles WHERE rolname = ${role}`).length }),
    (r) => r.dbs.length === 0 && r.roles === 0,
  );
  assert.deepEqual(diff(parentBefore, await snapshotParent()), [], "after deletion");
});

test("credentials answer at once; the endpoint refuses with the state until the branch is anonymized, then admits", async (t) => {
  // A session on the parent keeps the clone from starting (CREATE DATABASE …
  // TEMPLATE needs an idle parent), so `created` lasts as long as we hold it.
  const holder = connect(shop.url, { max: 1 });
  await holder`SELECT 1`;
  let id = "";
  let role = "";
  const seen = new Set<string>();
  const check = async () => {
    const reveal = await h.request("GET", path(id, `/roles/${role}/reveal_password`));
    const uri = await h.request("GET", uriPath(id, role));
    for (const res of [reveal, uri]) assert.equal(res.status, 200, JSON.stringify(res.body));
    const s = await status(id);
    const attempt = await attemptOn(connect(uri.body.uri, { max: 1, connect_timeout: 5 }));
    const after = await status(id);
    if (after.state !== "anonymized") {
      assert.equal(attempt.ok, false, `the endpoint admitted a client in state ${after.state}`);
      const refusal = attempt as { code: string; message: string };
      assert.equal(refusal.code, "57P03");
      assert.match(refusal.message, new RegExp(`branch ${id} (is not anonymized yet \\(${s.state}\\)|is being anonymized|is not anonymized yet)`));
      seen.add(s.state);
    }
    return after;
  };
  try {
    ({ id, role } = await createBranch({ branch_create: { branch: { name: "creds" } }, masking_rules: maskRules() }));
    const s = await waitFor(check, (x) => /session/.test(x.status_message) || x.state !== "created");
    assert.equal(s.state, "created", "the clone waits while the parent is busy");
  } finally {
    await holder.end();
  }
  const cloned = await waitFor(check, (s) => s.state !== "created");
  assert.equal(cloned.state, "initialized", cloned.status_message);
  // Asked once more in that state (nothing moves the branch on before the run below): the clone may have
  // finished between the status read and the attempt of the last check, which then counted `created`.
  await check();
  const run = await h.request("POST", path(id, "/anonymize"));
  assert.equal(run.status, 200, JSON.stringify(run.body));
  const final = await waitFor(check, (s) => isTerminal(s.state));
  assert.equal(final.state, "anonymized", final.status_message);
  t.diagnostic(`the endpoint refused in states: ${[...seen].join(", ")}`);
  assert.ok(seen.has("created") && seen.has("initialized"), [...seen].join(","));

  const reveal = await h.request("GET", path(id, `/roles/${role}/reveal_password`));
  const uri = await h.request("GET", uriPath(id, role));
  assert.equal(decodeURIComponent(new URL(uri.body.uri).password), reveal.body.password);
  assert.deepEqual(await attemptOn(connect(uri.body.uri, { max: 1 })), { ok: true });
});

// Each: overrides of a rule on users.name, and what the message must say.
const fn = (masking_function: string, why: RegExp) => ({ rule: { masking_function }, why });
const hostile: { rule: Record<string, unknown>; why: RegExp }[] = [
  fn("pg_read_file('/etc/passwd')", /function pg_read_file is not allowed/),
  fn("(select rolpassword from pg_authid)", /sub-queries are not allowed/),
  fn("anon.fake_email(); drop table users", /does not parse|single expression/),
  fn("1) FROM users WHERE (true", /single expression \(found FROM\)/),
  fn("anon.fake_email()) -- x", /does not parse/),
  fn("anon.fake_email() --\n, pg_read_file('/etc/passwd')", /row constructors|pg_read_file is not allowed/),
  fn("anon.fake_email(); ", /does not parse|single expression/),
  fn("'x' /* unterminated", /does not parse/),
  fn("nosuchschema.f()", /function nosuchschema\.f is not allowed/),
  fn("pg_catalog.md5(name))", /does not parse/),
  fn("pg_catalog.upper((name)", /does not parse/),
  fn("anon.init()", /function anon\.init is not allowed/),
  fn("pg_sleep(10)", /function pg_sleep is not allowed/),
  fn("CASE WHEN true THEN pg_catalog.pg_sleep(1)::text END", /function pg_catalog\.pg_sleep is not allowed/),
  fn("set_config('search_path', 'public', false)", /function set_config is not allowed/),
  fn("current_setting('data_directory')", /function current_setting is not allowed/),
  fn("lo_import('/etc/passwd')::text", /function lo_import is not allowed/),
  fn("dblink('host=evil.example', 'select 1')", /function dblink is not allowed/),
  fn("$1", /parameters \(\$1, \$2, …\) are not allowed/),
  fn("count(*)", /count\(\*\) is not allowed/),
  fn("'users'::regclass", /cast to regclass is not allowed/),
  fn('name COLLATE "C"', /COLLATE is not allowed/),
  fn("name OPERATOR(pg_catalog.||) 'x'", /OPERATOR\(schema\.op\) syntax is not allowed/),
  fn("ARRAY(SELECT email FROM users)", /sub-queries are not allowed/),
  fn("pg_catalog.concat(name, (SELECT rolpassword FROM pg_authid LIMIT 1))", /sub-queries are not allowed/),
  fn("ROW(name, email)", /row constructors/),
  fn("anon.fake_first_name() FILTER (WHERE true)", /FILTER/),
  fn("E'\\x27'", /backslash/),
  fn("anon.fake_first_name()\u0000", /NUL/),
  fn("x".repeat(2001), /2000/),
  { rule: { table_name: "orders", column_name: "note", masking_function: "pg_catalog.concat(users.email, 'x')" }, why: /column reference users\.email is not allowed/ },
  { rule: { masking_value: "anon.fake_email()" }, why: /must be a constant.*function call/ },
  { rule: { masking_value: "(select 1)" }, why: /must be a constant/ },
  { rule: { masking_value: "'a' || pg_read_file('/etc/passwd')" }, why: /must be a constant/ },
  { rule: { masking_function: "anon.fake_first_name()", masking_value: "'x'" }, why: /exactly one of masking_function or masking_value/ },
  { rule: {}, why: /exactly one of masking_function or masking_value/ },
  { rule: { column_name: "email", masking_value: "'x@example.com'" }, why: /UNIQUE.*unique generator/ },
  { rule: { table_name: "orders", column_name: "user_id", masking_function: "anon.random_int_between(1, 10)" }, why: /users\.id/ },
  { rule: { column_name: 'na"me', masking_value: "'x'" }, why: /column "na"me" does not exist/ },
  { rule: { column_name: 'name"; DROP TABLE users; --', masking_value: "'x'" }, why: /does not exist/ },
  { rule: { column_name: "NAME", masking_value: "'x'" }, why: /does not exist.*did you mean "name"/ },
  { rule: { column_name: "name\u0000", masking_value: "'x'" }, why: /NUL/ },
  { rule: { column_name: "n".repeat(64), masking_value: "'x'" }, why: /longer than 63 bytes/ },
  { rule: { table_name: '"; DROP TABLE users; --', masking_value: "'x'" }, why: /table .* does not exist/ },
  { rule: { schema_name: "pg_catalog", table_name: "pg_authid", column_name: "rolpassword", masking_value: "'x'" }, why: /schema "pg_catalog" does not exist/ },
  { rule: { database_name: "postgres", masking_value: "'x'" }, why: /database "postgres" does not exist/ },
];

test("hostile and malformed rules are refused with a 4xx naming the rule, and change nothing", async () => {
  assert.ok(hostile.length >= 30);
  const { id } = await createBranch({ branch_create: { branch: { name: "hostile" } }, masking_rules: maskRules() });
  assert.equal((await waitFor(() => status(id), (s) => s.state !== "created")).state, "initialized");
  const [physical] = await branchDatabases(id);
  const labels = async () => {
    const sql = connect(testServerUrl(physical!), { max: 1 });
    try {
      return await sql`SELECT objoid::regclass::text AS rel, objsubid, provider, label FROM pg_seclabel ORDER BY 1, 2, 3`;
    } finally {
      await sql.end();
    }
  };
  const copies = async () =>
    (await admin`SELECT datname FROM pg_database WHERE right(datname, ${shop.name.length + 2}) = ${`__${shop.name}`} ORDER BY 1`).map((r) => r.datname);
  const state = async () => ({
    labels: await labels(),
    rules: (await h.request("GET", path(id, "/masking_rules"))).body,
    branches: (await h.request("GET", `/projects/${projectId}/branches`)).body.branches.map((b: { id: string }) => b.id).sort(),
    databases: await copies(),
  });
  const before = await state();
  assert.equal(before.labels.length, 3);

  const valid = rule("users", "phone", { masking_function: "anon.partial(phone, 2, 'XXX-XXXX', 2)" });
  const failures: string[] = [];
  for (const { rule: over, why } of hostile) {
    const masking_rules = [valid, { ...rule("users", "name", {}), ...over }];
    // No start_anonymization: a rule wrongly accepted must fail this test, not run
    // (pg_sleep would hold a worker for hours); such a branch is deleted at once.
    const post = await h.request("POST", `/projects/${projectId}/branch_anonymized`, { masking_rules });
    if (post.status === 201) await h.request("DELETE", path(post.body.branch.id));
    const patch = await h.request("PATCH", path(id, "/masking_rules"), { masking_rules });
    for (const [verb, res] of [["POST", post], ["PATCH", patch]] as const) {
      const b = res.body ?? {};
      const ok = res.status >= 400 && res.status < 500 && typeof b.code === "string" && typeof b.request_id === "string" &&
        typeof b.message === "string" && b.message.includes("masking_rules[1]") && why.test(b.message);
      if (!ok) failures.push(`${verb} ${JSON.stringify(over)} → ${res.status} ${JSON.stringify(b)}`);
    }
  }
  assert.deepEqual(failures, [], "rules not refused as they should be");

  for (const [verb, url] of [["POST", `/projects/${projectId}/branch_anonymized`], ["PATCH", path(id, "/masking_rules")]] as const) {
    const broken = await h.request(verb, url, '{"masking_rules": [');
    assert.equal(broken.status, 400, `${verb} malformed JSON: ${JSON.stringify(broken.body)}`);
    assert.equal(typeof broken.body.message, "string");
    for (const masking_rules of ["nope", { 0: valid }, 42]) {
      const res = await h.request(verb, url, { masking_rules });
      assert.equal(res.status, 400, `${verb} masking_rules=${JSON.stringify(masking_rules)}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, /masking_rules/);
    }
  }
  assert.deepEqual(await state(), before, "no branch, database, rule or label changed");
});

test("a label the branch role sets with a function of its own stops the run, which masks nothing", async () => {
  const { id, role } = await anonymizedBranch("own-function");
  const owner = `${stem(id)}_owner`;
  const uri = await h.request("GET", uriPath(id, role));
  assert.equal(uri.status, 200, JSON.stringify(uri.body));
  const names = async () => {
    // As the admin: after a refused run the endpoint is closed (state error).
    const sql = connect(testServerUrl(`${stem(id)}__${shop.name}`), { max: 1 });
    try {
      const [r] = await sql`SELECT md5(string_agg(name, '|' ORDER BY id)) AS md5 FROM users`;
      return r!.md5 as string;
    } finally {
      await sql.end();
    }
  };
  const sql = connect(uri.body.uri, { max: 1 });
  try {
    // Run by a superuser, this function would make the branch role one.
    await sql.unsafe(`
      CREATE SCHEMA mine;
      CREATE FUNCTION mine.f(text) RETURNS text LANGUAGE plpgsql AS $$
        BEGIN EXECUTE 'ALTER ROLE ${owner} SUPERUSER'; RETURN 'owned'; END $$;
      SECURITY LABEL FOR anon ON COLUMN users.name IS 'MASKED WITH FUNCTION mine.f(name)'`);
  } finally {
    await sql.end();
  }
  const before = await names();
  const run = await h.request("POST", path(id, "/anonymize"));
  assert.equal(run.status, 200, JSON.stringify(run.body));
  const final = await settle(id);
  assert.equal(final.state, "error", final.status_message);
  assert.match(final.status_message, /mine\.f/);
  assert.equal(await names(), before, "users.name is unchanged by the refused run");
  const [r] = await admin`SELECT rolsuper FROM pg_roles WHERE rolname = ${owner}`;
  assert.equal(r!.rolsuper, false);
});
