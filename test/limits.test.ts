// Limits that protect the server holding the parent: project quotas in Neon's
// shape, a per-server storage budget, the free space of the server's disk.
// Each refusal comes before anything is created: no row, no job, no database.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startHarness, waitFor, type Harness } from "./helpers/harness.ts";
import { connect, testServerUrl } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;
let parentBytes: number;

before(async () => {
  shop = await createShop(2000, "lshop");
  h = await startHarness();
  // Vacuumed once so its free-space and visibility maps exist: its size no longer moves under the test.
  await shop.query((sql) => sql`VACUUM`);
  // A fresh session rebuilds the relation cache file (pg_internal.init) VACUUM removed, as the API's next one would.
  await shop.query((sql) => sql`SELECT 1`);
  const admin = connect(testServerUrl(), { max: 1 });
  parentBytes = Number((await admin`SELECT pg_database_size(${shop.name}) AS n`)[0]!.n);
  await admin.end();
});

after(async () => {
  // Let the branches the tests made settle before closing (their jobs hold connections).
  if (h) await footprint("none");
  await h?.close();
  await shop?.drop();
});

const create = (projectId: string, token?: string) =>
  h.request(
    "POST",
    `/projects/${projectId}/branch_anonymized`,
    { branch_create: { branch: { expires_at: new Date(Date.now() + 600_000).toISOString() } }, start_anonymization: true },
    token,
  );

/**
 * Branch rows and operations of a project, and branch databases of this
 * parent on the server (once no job is left running anywhere, so an earlier
 * test's delete cannot land in between): what a refusal must leave untouched.
 */
async function footprint(projectId: string) {
  await waitFor(
    async () => (await h.services.db.$client`SELECT count(*)::int AS n FROM operations WHERE status IN ('scheduling', 'running')`)[0]!.n,
    (n) => n === 0,
  );
  const [rows] = await h.services.db.$client`
    SELECT (SELECT count(*) FROM branches WHERE project_id = ${projectId} AND NOT is_default)::int AS branches,
           (SELECT count(*) FROM operations WHERE project_id = ${projectId})::int AS operations`;
  const admin = connect(testServerUrl(), { max: 1 });
  const [dbs] = await admin`SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE ${`%\\_\\_${shop.name}`}`;
  await admin.end();
  return { ...rows, databases: dbs!.n };
}

describe("project quotas (settings.quota, Neon's shape)", () => {
  test("logical_size_bytes just above one branch: the first is created, the second refused with 422 and nothing cloned", async () => {
    const { projectId } = await h.registerProject([shop.name], "quota");
    const patch = await h.request("PATCH", `/projects/${projectId}`, { project: { settings: { quota: { logical_size_bytes: parentBytes + 1 } } } });
    assert.equal(patch.status, 200, JSON.stringify(patch.body));
    assert.equal(patch.body.project.settings.quota.logical_size_bytes, parentBytes + 1);

    const first = await create(projectId);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    await waitFor(() => h.request("GET", `/projects/${projectId}/branches/${first.body.branch.id}/anonymized_status`), (r) => r.body.state === "anonymized");
    const before = await footprint(projectId);

    const second = await create(projectId);
    assert.equal(second.status, 422, JSON.stringify(second.body));
    assert.equal(second.body.code, "QUOTA_EXCEEDED");
    assert.match(second.body.message, /settings\.quota\.logical_size_bytes is \d+ bytes/);
    assert.match(second.body.message, new RegExp(`use ${parentBytes} bytes`), "names the usage");
    assert.match(second.body.message, new RegExp(`needs ${parentBytes} bytes`), "names the size asked for");
    assert.deepEqual(await footprint(projectId), before, "no row, no operation, no database");

    // Deleting the first frees the quota.
    assert.equal((await h.request("DELETE", `/projects/${projectId}/branches/${first.body.branch.id}`)).status, 200);
    assert.equal((await create(projectId)).status, 201);
  });

  test("max_branches: the branch past the limit is refused with 422 naming it", async () => {
    const { projectId } = await h.registerProject([shop.name], "count");
    assert.equal((await h.request("PATCH", `/projects/${projectId}`, { project: { settings: { quota: { max_branches: 1 } } } })).status, 200);
    assert.equal((await create(projectId)).status, 201);
    const refused = await create(projectId);
    assert.equal(refused.status, 422);
    assert.equal(refused.body.code, "BRANCH_LIMIT_EXCEEDED");
    assert.match(refused.body.message, /settings\.quota\.max_branches is 1/);
    // null lifts the limit.
    assert.equal((await h.request("PATCH", `/projects/${projectId}`, { project: { settings: { quota: { max_branches: null } } } })).status, 200);
    assert.equal((await create(projectId)).status, 201);
  });

  test("quotas are admin-only and validated", async () => {
    const { projectId } = await h.registerProject([shop.name], "guarded");
    const dev = await h.mintKey({ role: "developer", projects: [projectId] });
    assert.equal((await h.request("PATCH", `/projects/${projectId}`, { project: { settings: { quota: { max_branches: 100 } } } }, dev.key)).status, 403);
    const bad = await h.request("PATCH", `/projects/${projectId}`, { project: { settings: { quota: { logical_size_bytes: -5 } } } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /project\.settings\.quota\.logical_size_bytes/);
    const unknown = await h.request("PATCH", `/projects/${projectId}`, { project: { settings: { quota: { size: 5 } } } });
    assert.equal(unknown.status, 400);
  });
});

describe("the data-plane server's storage budget", () => {
  test("a budget below the parent's size refuses the first branch, naming budget, usage and size; GET /servers shows it", async () => {
    const { projectId } = await h.registerProject([shop.name], "budget");
    const servers = await h.request("GET", "/servers");
    assert.equal(servers.status, 200);
    const server = servers.body.servers.find((s: { project_ids: string[] }) => s.project_ids.includes(projectId));
    const budget = parentBytes - 1;
    const set = await h.request("PATCH", `/servers/${server.id}`, { server: { storage_budget_bytes: budget } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.server.storage_budget_bytes, budget);
    try {
      // Copies other tests made on this server count too.
      const used = set.body.server.used_bytes as number;
      const before = await footprint(projectId);
      const refused = await create(projectId);
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      assert.equal(refused.body.code, "STORAGE_BUDGET_EXCEEDED");
      assert.match(refused.body.message, new RegExp(`storage budget is ${budget} bytes`));
      assert.match(refused.body.message, new RegExp(`use ${used} bytes`));
      assert.match(refused.body.message, new RegExp(`needs ${parentBytes} bytes`));
      assert.deepEqual(await footprint(projectId), before, "nothing created");
    } finally {
      assert.equal((await h.request("PATCH", `/servers/${server.id}`, { server: { storage_budget_bytes: null } })).status, 200);
    }
    assert.equal((await create(projectId)).status, 201, "without a budget it fits");
    const dev = await h.mintKey({ role: "developer", projects: [projectId] });
    assert.equal((await h.request("GET", "/servers", undefined, dev.key)).status, 403);
    assert.equal((await h.request("PATCH", `/servers/nope`, { server: { storage_budget_bytes: 1 } })).status, 422);
  });
});

describe("free space on the server's disk (local server: statfs of its data directory)", () => {
  test("a copy that would leave less than ANONBRANCH_MIN_FREE_PERCENT free is refused, naming free space and size", async () => {
    const strict = await startHarness({ worker: false, config: { ANONBRANCH_MIN_FREE_PERCENT: 100 } });
    try {
      const { projectId } = await strict.registerProject([shop.name], "disk");
      const res = await strict.request("POST", `/projects/${projectId}/branch_anonymized`, {});
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.equal(res.body.code, "INSUFFICIENT_STORAGE");
      assert.match(res.body.message, /has \d+ bytes .* free of \d+ bytes .*; this branch needs \d+ bytes .* and 100% of the disk/);
    } finally {
      await strict.close();
    }
  });
});
