// Lifecycle and reliability as CI pipelines rely on it: expiry, deletes, a busy
// parent, concurrency, per-branch locking and reset_to_parent.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startHarness, waitFor, type Harness } from "./helpers/harness.ts";
import { connect, testServerUrl } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;
let projectId: string;

const rules = () => [
  {
    database_name: shop.name,
    schema_name: "public",
    table_name: "users",
    column_name: "email",
    masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')",
  },
  { database_name: shop.name, schema_name: "public", table_name: "users", column_name: "address", masking_value: "'CONFIDENTIAL'" },
];

async function create(body: Record<string, unknown> = {}) {
  const res = await h.request("POST", `/projects/${projectId}/branch_anonymized`, {
    masking_rules: rules(),
    start_anonymization: true,
    ...body,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.branch.id as string;
}

const status = async (id: string) => (await h.request("GET", `/projects/${projectId}/branches/${id}/anonymized_status`)).body;

async function settle(id: string) {
  return waitFor(() => status(id), (s) => ["anonymized", "error", "initialization_error"].includes(s.state), 120_000);
}

/** Databases and roles on the data plane that belong to a branch. */
async function dataPlaneObjects(branchId: string) {
  const stem = branchId.replaceAll("-", "_");
  const admin = connect(testServerUrl(), { max: 1 });
  try {
    const dbs = await admin`SELECT datname FROM pg_database WHERE datname LIKE ${`${stem}\\_\\_%`} ORDER BY 1`;
    const roles = await admin`SELECT rolname FROM pg_roles WHERE rolname = ${`${stem}_owner`}`;
    return { databases: dbs.map((r) => r.datname as string), roles: roles.map((r) => r.rolname as string) };
  } finally {
    await admin.end();
  }
}

before(async () => {
  shop = await createShop(500, "lshop");
  h = await startHarness();
  const res = await h.request("POST", "/projects", {
    project: { name: "lifecycle", source: { connection_uri: testServerUrl("postgres"), databases: [shop.name] } },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  projectId = res.body.project.id;
});

after(async () => {
  await h?.close();
  await shop?.drop();
});

describe("lifecycle", () => {
  test("a branch created with expires_at 5 s ahead is gone, databases and role, within 60 s", async () => {
    const expiresAt = new Date(Date.now() + 5_000).toISOString();
    const id = await create({ branch_create: { branch: { expires_at: expiresAt } } });
    const got = await h.request("GET", `/projects/${projectId}/branches/${id}`);
    assert.equal(got.body.branch.expires_at, expiresAt);
    const started = Date.now();
    await waitFor(async () => (await h.request("GET", `/projects/${projectId}/branches/${id}`)).status, (s) => s === 404, 60_000);
    await waitFor(() => dataPlaneObjects(id), (o) => o.databases.length === 0 && o.roles.length === 0, 60_000 - (Date.now() - started));
    const list = await h.request("GET", `/projects/${projectId}/branches`);
    assert.ok(!list.body.branches.some((b: { id: string }) => b.id === id), "absent from the list");
    const audit = await h.request("GET", `/projects/${projectId}/audit_log`);
    assert.ok(audit.body.events.some((e: { action: string; branch_id: string }) => e.action === "branch.expire" && e.branch_id === id));
  });

  test("PATCH sets and validates expires_at", async () => {
    const id = await create({ start_anonymization: false });
    const past = await h.request("PATCH", `/projects/${projectId}/branches/${id}`, {
      branch: { expires_at: new Date(Date.now() - 1000).toISOString() },
    });
    assert.equal(past.status, 422);
    assert.match(past.body.message, /expires_at/);
    const bad = await h.request("PATCH", `/projects/${projectId}/branches/${id}`, { branch: { expires_at: "tomorrow" } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /branch\.expires_at/);
    const soon = new Date(Date.now() + 2_000).toISOString();
    const ok = await h.request("PATCH", `/projects/${projectId}/branches/${id}`, { branch: { expires_at: soon, name: "renamed" } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.branch.name, "renamed");
    await waitFor(async () => (await h.request("GET", `/projects/${projectId}/branches/${id}`)).status, (s) => s === 404, 60_000);
    await waitFor(() => dataPlaneObjects(id), (o) => o.databases.length === 0 && o.roles.length === 0);
  });

  test("DELETE answers at once, twice is harmless, the default branch is refused", async () => {
    const id = await create();
    await settle(id);
    const first = await h.request("DELETE", `/projects/${projectId}/branches/${id}`);
    assert.equal(first.status, 200);
    assert.equal(first.body.operations.length, 1);
    const second = await h.request("DELETE", `/projects/${projectId}/branches/${id}`);
    assert.equal(second.status, 200);
    assert.deepEqual(second.body.operations, []);
    await waitFor(() => dataPlaneObjects(id), (o) => o.databases.length === 0 && o.roles.length === 0);
    const op = await h.request("GET", `/projects/${projectId}/operations/${first.body.operations[0].id}`);
    assert.equal(op.body.operation.status, "finished");

    const branches = await h.request("GET", `/projects/${projectId}/branches`);
    const main = branches.body.branches.find((b: { default: boolean }) => b.default);
    const refused = await h.request("DELETE", `/projects/${projectId}/branches/${main.id}`);
    assert.equal(refused.status, 422);
    assert.match(refused.body.message, /default branch/);
  });

  test("refused creates write nothing: a live branch's name (409 naming it), an unknown parent_id (422 naming the field), no free endpoint port (409)", async () => {
    const footprint = async (hx: Harness, project: string) =>
      (await hx.services.db.$client`
        SELECT (SELECT count(*) FROM branches WHERE project_id = ${project})::int AS branches,
               (SELECT count(*) FROM operations WHERE project_id = ${project})::int AS operations,
               (SELECT count(*) FROM audit_events WHERE project_id = ${project} AND action = 'branch.create')::int AS audited,
               (SELECT count(*) FROM pgboss.job)::int AS jobs`)[0];
    const first = await create({ branch_create: { branch: { name: "pr-7" } }, start_anonymization: false });
    const before = await footprint(h, projectId);
    const taken = await h.request("POST", `/projects/${projectId}/branch_anonymized`, { branch_create: { branch: { name: "pr-7" } }, masking_rules: rules() });
    assert.equal(taken.status, 409, JSON.stringify(taken.body));
    assert.equal(taken.body.code, "BRANCH_NAME_TAKEN");
    assert.equal(taken.body.message, `branch_create.branch.name: a branch named "pr-7" already exists (${first})`);
    const orphan = await h.request("POST", `/projects/${projectId}/branch_anonymized`, { branch_create: { branch: { parent_id: "br-no-such-000000" } }, masking_rules: rules() });
    assert.equal(orphan.status, 422, JSON.stringify(orphan.body));
    assert.match(orphan.body.message, /^branch_create\.branch\.parent_id: branch br-no-such-000000 does not exist/);
    assert.deepEqual(await footprint(h, projectId), before);

    // A service with one endpoint port: the second live branch gets none.
    const narrow = await startHarness({ worker: false, config: { ANONBRANCH_ENDPOINT_PORTS: { first: 45_321, last: 45_321 } } });
    try {
      const { projectId: p } = await narrow.registerProject([shop.name], "one-port");
      const one = await narrow.request("POST", `/projects/${p}/branch_anonymized`, {});
      assert.equal(one.status, 201, JSON.stringify(one.body));
      const [port] = await narrow.services.db.$client`SELECT endpoint_port FROM branches WHERE id = ${one.body.branch.id}`;
      assert.equal(port!.endpoint_port, 45_321);
      const held = await footprint(narrow, p);
      const none = await narrow.request("POST", `/projects/${p}/branch_anonymized`, {});
      assert.equal(none.status, 409, JSON.stringify(none.body));
      assert.equal(none.body.code, "ENDPOINT_PORTS_EXHAUSTED");
      assert.match(none.body.message, /every endpoint port \(45321-45321\) is taken/);
      assert.deepEqual(await footprint(narrow, p), held);
    } finally {
      await narrow.close();
    }
  });

  test("with an open session on the parent, creation waits, says why, locks the branch, and completes once it closes", async () => {
    const session = connect(shop.url, { max: 1 });
    await session`SELECT 1`;
    let id = "";
    try {
      id = await create();
      const waiting = await waitFor(() => status(id), (s) => /waiting for \d+ sessions? on/.test(s.status_message), 30_000);
      assert.match(waiting.status_message, new RegExp(`waiting for 1 session on ${shop.name} to finish`));
      assert.equal(waiting.state, "created");
      // The create operation holds the branch while it waits: other work on it is refused.
      const patch = await h.request("PATCH", `/projects/${projectId}/branches/${id}/masking_rules`, { masking_rules: rules() });
      const del = await h.request("DELETE", `/projects/${projectId}/branches/${id}`);
      const reset = await h.request("POST", `/projects/${projectId}/branches/${id}/reset_to_parent`);
      for (const res of [patch, del]) {
        assert.equal(res.status, 423, JSON.stringify(res.body));
        assert.equal(res.body.code, "LOCKED");
        assert.match(res.body.message, /busy with operation create_branch/);
      }
      assert.equal(reset.status, 423);
    } finally {
      await session.end();
    }
    const final = await settle(id);
    assert.equal(final.state, "anonymized", final.status_message);
    const run = await h.request("POST", `/projects/${projectId}/branches/${id}/anonymize`);
    assert.equal(run.status, 200);
    const again = await h.request("POST", `/projects/${projectId}/branches/${id}/anonymize`);
    assert.equal(again.status, 423, "a second anonymize while one is queued or running");
    assert.equal((await settle(id)).state, "anonymized");
  });

  test("20 simultaneous creates give 20 anonymized branches, each anonymized once", async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => create({ branch_create: { branch: { name: `ci-${i}` } } })));
    assert.equal(new Set(ids).size, 20);
    const finals = await Promise.all(ids.map(settle));
    assert.deepEqual(finals.map((s) => s.state), Array(20).fill("anonymized"));
    const objects = await Promise.all(ids.map(dataPlaneObjects));
    assert.equal(new Set(objects.flatMap((o) => o.databases)).size, 20, "20 distinct databases");
    assert.ok(objects.every((o) => o.databases.length === 1 && o.roles.length === 1));
    const runs = await h.services.db.$client`
      SELECT branch_id, count(*)::int AS runs, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded
      FROM anonymization_runs WHERE branch_id = ANY(${ids}) GROUP BY 1`;
    assert.equal(runs.length, 20);
    assert.ok(runs.every((r) => r.runs === 1 && r.succeeded === 1), JSON.stringify(runs));
    const ops = await h.services.db.$client`
      SELECT count(*)::int AS n FROM operations WHERE branch_id = ANY(${ids}) AND (status <> 'finished' OR failures_count <> 0)`;
    assert.equal(ops[0]!.n, 0, "every create operation finished on its first attempt");
  });

  test("reset_to_parent brings back the parent's rows, masked, keeping role and password", async () => {
    const id = await create();
    assert.equal((await settle(id)).state, "anonymized");
    const role = (await h.request("GET", `/projects/${projectId}/branches/${id}/roles`)).body.roles[0].name;
    const password = (await h.request("GET", `/projects/${projectId}/branches/${id}/roles/${role}/reveal_password`)).body.password;
    const uri = (
      await h.request("GET", `/projects/${projectId}/connection_uri?branch_id=${id}&database_name=${shop.name}&role_name=${role}`)
    ).body.uri;
    const branchSql = connect(uri, { max: 1 });
    await branchSql`UPDATE users SET name = 'changed by the branch user'`;
    await branchSql`DELETE FROM orders WHERE id <= 100`;
    await branchSql.end();

    const reset = await h.request("POST", `/projects/${projectId}/branches/${id}/reset_to_parent`);
    assert.equal(reset.status, 200, JSON.stringify(reset.body));
    assert.equal(reset.body.operations[0].action, "reset_to_parent");
    const final = await settle(id);
    assert.equal(final.state, "anonymized", final.status_message);

    const again = (await h.request("GET", `/projects/${projectId}/branches/${id}/roles/${role}/reveal_password`)).body.password;
    assert.equal(again, password, "same password");
    const after = connect(uri, { max: 1 });
    const parent = connect(shop.url, { max: 1 });
    try {
      const [b] = await after`SELECT count(*)::int AS orders, (SELECT count(*) FROM users WHERE name = 'changed by the branch user')::int AS changed FROM orders`;
      const [p] = await parent`SELECT count(*)::int AS orders FROM orders`;
      assert.equal(b!.orders, p!.orders, "deleted rows are back");
      assert.equal(b!.changed, 0, "changed rows are back");
      const [leak] = await after`SELECT count(*)::int AS n FROM users WHERE email LIKE 'customer%@shop.example' OR address <> 'CONFIDENTIAL'`;
      assert.equal(leak!.n, 0, "and masked again");
    } finally {
      await after.end();
      await parent.end();
    }
    const branch = await h.request("GET", `/projects/${projectId}/branches/${id}`);
    assert.ok(branch.body.branch.last_reset_at);
  });
});
