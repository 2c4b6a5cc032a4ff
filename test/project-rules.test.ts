// A project's masking rules: the default set of new branches, and a floor that
// developer and ci keys cannot go below.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startHarness, waitFor, type Harness, type MintedKey } from "./helpers/harness.ts";
import { connect, testServerUrl } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;
let projectId: string;
let developer: MintedKey;

const rule = (column: string, fn: { masking_function?: string; masking_value?: string }) => ({
  database_name: shop.name,
  schema_name: "public",
  table_name: "users",
  column_name: column,
  ...fn,
});
const email = () => rule("email", { masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')" });
const address = () => rule("address", { masking_value: "'CONFIDENTIAL'" });

before(async () => {
  shop = await createShop(200, "pshop");
  h = await startHarness();
  const res = await h.request("POST", "/projects", {
    project: { name: "rules", source: { connection_uri: testServerUrl("postgres"), databases: [shop.name] } },
  });
  projectId = res.body.project.id;
  developer = await h.mintKey({ role: "developer", projects: [projectId] });
});

test("until an admin sets project rules, developer keys cannot create branches", async () => {
  const res = await h.request("POST", `/projects/${projectId}/branch_anonymized`, { masking_rules: [email()] }, developer.key);
  assert.equal(res.status, 403);
  assert.match(res.body.message, /has no masking rules yet/);
});

after(async () => {
  await h?.close();
  await shop?.drop();
});

describe("project masking rules", () => {
  test("admins set them (validated); everyone with access reads them", async () => {
    const bad = await h.request("PUT", `/projects/${projectId}/masking_rules`, { masking_rules: [rule("emial", { masking_value: "NULL" })] });
    assert.equal(bad.status, 422);
    assert.match(bad.body.message, /did you mean "email"/);
    const refused = await h.request("PUT", `/projects/${projectId}/masking_rules`, { masking_rules: [email()] }, developer.key);
    assert.equal(refused.status, 403);
    const put = await h.request("PUT", `/projects/${projectId}/masking_rules`, { masking_rules: [email(), address()] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const get = await h.request("GET", `/projects/${projectId}/masking_rules`, undefined, developer.key);
    assert.deepEqual(get.body.masking_rules, [email(), address()]);
  });

  test("a branch created without rules gets the project's and is masked by them", async () => {
    const res = await h.request("POST", `/projects/${projectId}/branch_anonymized`, { start_anonymization: true }, developer.key);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const id = res.body.branch.id;
    const final = await waitFor(
      async () => (await h.request("GET", `/projects/${projectId}/branches/${id}/anonymized_status`)).body,
      (s) => ["anonymized", "error"].includes(s.state),
    );
    assert.equal(final.state, "anonymized", final.status_message);
    assert.equal(final.last_run.masked_columns, 2);
    const branchDb = connect(testServerUrl(`${id.replaceAll("-", "_")}__${shop.name}`), { max: 1 });
    const [row] = await branchDb`SELECT count(*) FILTER (WHERE email LIKE 'customer%' OR address <> 'CONFIDENTIAL')::int AS n FROM users`;
    await branchDb.end();
    assert.equal(row!.n, 0);
  });

  test("a developer cannot leave a project column unmasked, at creation or by PATCH; an admin can", async () => {
    const create = await h.request("POST", `/projects/${projectId}/branch_anonymized`, { masking_rules: [email()] }, developer.key);
    assert.equal(create.status, 403);
    assert.match(create.body.message, new RegExp(`must mask ${shop.name}\\.public\\.users\\.address`));
    const weakened = await h.request("POST", `/projects/${projectId}/branch_anonymized`, {
      masking_rules: [email(), rule("address", { masking_function: "pg_catalog.lower(address)" })],
    }, developer.key);
    assert.equal(weakened.status, 403, "an expression that keeps the original is not the project's rule");
    assert.match(weakened.body.message, /users\.address exactly as/);
    const ok = await h.request("POST", `/projects/${projectId}/branch_anonymized`, {
      masking_rules: [email(), address(), rule("name", { masking_function: "anon.dummy_name()" })],
    }, developer.key);
    assert.equal(ok.status, 201, "more rules than the project's are fine");
    const id = ok.body.branch.id;
    await waitFor(async () => (await h.request("GET", `/projects/${projectId}/branches/${id}/anonymized_status`)).body.state, (s) => s === "initialized");
    const patch = await h.request("PATCH", `/projects/${projectId}/branches/${id}/masking_rules`, { masking_rules: [address()] }, developer.key);
    assert.equal(patch.status, 403);
    assert.match(patch.body.message, /users\.email/);
    const admin = await h.request("PATCH", `/projects/${projectId}/branches/${id}/masking_rules`, { masking_rules: [address()] });
    assert.equal(admin.status, 200, "admins decide for themselves");
  });
});

describe("sensitive-column scan", () => {
  test("finds personal-looking columns by name, suggests valid rules, reports coverage", async () => {
    await shop.query((sql) => sql.unsafe(`
      ALTER TABLE users ADD COLUMN date_of_birth date, ADD COLUMN password_hash text NOT NULL DEFAULT 'x',
        ADD COLUMN last_login_ip inet;
      CREATE TABLE audit (id serial PRIMARY KEY, user_email text REFERENCES users (email), note text);
    `));
    const res = await h.request("GET", `/projects/${projectId}/sensitive_columns`, undefined, developer.key);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const byColumn = new Map(res.body.columns.map((c: { table_name: string; column_name: string }) => [`${c.table_name}.${c.column_name}`, c]));
    const get = (k: string): any => byColumn.get(k);
    assert.deepEqual([...byColumn.keys()].sort(), [
      "audit.user_email", "users.address", "users.date_of_birth", "users.email", "users.last_login_ip", "users.name",
      "users.password_hash", "users.phone",
    ]);
    assert.equal(get("users.last_login_ip").category, "ip address");
    assert.equal(get("users.last_login_ip").suggested_rule.masking_function, "anon.dummy_ipv4()::inet", "inet columns get an inet");
    assert.equal(get("users.email").category, "email");
    assert.equal(get("users.email").suggested_rule.masking_function, "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')", "UNIQUE: a unique generator");
    assert.equal(get("users.phone").suggested_rule.masking_function, 'anon.partial("phone", 2, \'XXXXXX\', 2)');
    assert.equal(get("users.date_of_birth").suggested_rule.masking_function, "anon.dnoise(\"date_of_birth\", '2 years')");
    assert.equal(get("audit.user_email").suggested_rule, undefined, "a foreign key gets no rule");
    assert.match(get("audit.user_email").note, /users\.email/);
    assert.equal(get("users.email").masked, true);
    assert.equal(get("users.phone").masked, false);
    assert.deepEqual(res.body.coverage, { sensitive: 8, masked: 2, not_sensitive: 0, uncovered: 6 });
    // Every suggestion is a valid rule, and applying them all covers every column that got one:
    const suggested = res.body.columns.filter((c: { suggested_rule?: unknown }) => c.suggested_rule).map((c: { suggested_rule: unknown }) => c.suggested_rule);
    const put = await h.request("PUT", `/projects/${projectId}/masking_rules`, { masking_rules: suggested });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const after = await h.request("GET", `/projects/${projectId}/sensitive_columns`);
    assert.deepEqual(after.body.coverage, { sensitive: 8, masked: suggested.length, not_sensitive: 0, uncovered: 8 - suggested.length });
    assert.equal(suggested.length, 7, "all but the foreign key");
  });
});
