// Wire compatibility: Neon's own TypeScript SDK (@neondatabase/api-client),
// pointed at anonbranch over real HTTP, drives the anonymized-branch flow.
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { serve, type ServerType } from "@hono/node-server";
import { createApiClient, type Api } from "@neondatabase/api-client";
import { startHarness, waitFor, type Harness } from "./helpers/harness.ts";
import { testServerUrl } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;
let server: ServerType;
let neon: Api<unknown>;
let projectId: string;

before(async () => {
  shop = await createShop(200, "nshop");
  h = await startHarness();
  const res = await h.request("POST", "/projects", {
    project: { name: "sdk", source: { connection_uri: testServerUrl("postgres"), databases: [shop.name] } },
  });
  projectId = res.body.project.id;
  server = serve({ fetch: h.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  neon = createApiClient({ apiKey: h.adminToken, baseURL: `http://127.0.0.1:${port}/api/v2` });
});

after(async () => {
  server?.close();
  await h?.close();
  await shop?.drop();
});

describe("Neon's SDK against anonbranch", () => {
  test("create an anonymized branch, follow its status, read rules, list, connect, delete", async () => {
    const created = await neon.createProjectBranchAnonymized(projectId, {
      branch_create: { branch: { name: "sdk-branch" } },
      masking_rules: [
        { database_name: shop.name, schema_name: "public", table_name: "users", column_name: "email", masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')" },
      ],
      start_anonymization: true,
    });
    assert.equal(created.status, 201);
    const branchId = created.data.branch.id;
    assert.equal(created.data.branch.current_state, "init");
    assert.equal(created.data.databases[0]!.name, shop.name);

    const final = await waitFor(
      async () => (await neon.getAnonymizedBranchStatus(projectId, branchId)).data,
      (s) => s.state === "anonymized" || s.state === "error",
    );
    assert.equal(final.state, "anonymized", final.status_message);
    assert.equal(final.last_run?.masked_columns, 1);

    const rules = await neon.getMaskingRules(projectId, branchId);
    assert.equal(rules.data.masking_rules[0]!.column_name, "email");

    const list = await neon.listProjectBranches({ projectId, search: "sdk-" });
    assert.deepEqual(list.data.branches.map((b) => b.id), [branchId]);
    assert.deepEqual(list.data.annotations, {});

    const role = (await neon.listProjectBranchRoles(projectId, branchId)).data.roles[0]!.name;
    const uri = await neon.getConnectionUri({ projectId, branch_id: branchId, database_name: shop.name, role_name: role });
    assert.match(uri.data.uri, /^postgres(ql)?:\/\//);

    const deleted = await neon.deleteProjectBranch({ projectId, branchId });
    assert.equal(deleted.status, 200);
    assert.equal(deleted.data.branch.id, branchId);
    await assert.rejects(neon.getProjectBranch(projectId, branchId), (e: { response?: { status: number; data: { code: string } } }) => {
      assert.equal(e.response?.status, 404);
      assert.equal(e.response?.data.code, "NOT_FOUND");
      return true;
    });
  });
});
