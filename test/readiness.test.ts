// /healthz is liveness; /readyz names what is down. A request that needs an
// unreachable server answers 503 UNAVAILABLE with Retry-After, never 500.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startHarness, type Harness } from "./helpers/harness.ts";
import { testServerUrl } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;

before(async () => {
  shop = await createShop(100, "ready");
  h = await startHarness({ worker: false });
});

after(async () => {
  await h?.close();
  await shop?.drop();
});

test("everything up: /healthz ok, /readyz ready with each data-plane server up", async () => {
  const { projectId } = await h.registerProject([shop.name], "up");
  assert.deepEqual(await (await h.fetch(new Request("http://x/healthz"))).json(), { status: "ok" });
  const res = await h.fetch(new Request("http://x/readyz"));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.status, "ready");
  assert.equal(body.metadata, "up");
  const server = body.data_planes.find((d: { projects: string[] }) => d.projects.includes(projectId));
  assert.equal(server.status, "up");
  assert.equal(server.server, `${new URL(testServerUrl()).hostname}:${new URL(testServerUrl()).port}`);
  assert.doesNotMatch(JSON.stringify(body), /postgres(ql)?:\/\//, "no connection URI");
});

test("a data-plane server that is down: /readyz is degraded and names it; requests that need it get 503 with Retry-After", async () => {
  const { projectId } = await h.registerProject([shop.name], "down");
  // The server moved away: nothing listens on port 1.
  const gone = new URL(testServerUrl());
  gone.port = "1";
  await h.services.db.$client`
    UPDATE projects SET source_uri_encrypted = ${await h.services.secrets.seal(gone.toString())}, port = 1 WHERE id = ${projectId}`;
  // /readyz caches for 5 s: a fresh app sees the change at once.
  const { createApp } = await import("../src/app.ts");
  const app = createApp({ services: h.services, auth: { adminToken: h.adminToken } });
  const res = await app.request("/readyz");
  assert.equal(res.status, 200, "the API itself can serve");
  const body = await res.json();
  assert.equal(body.status, "degraded");
  const server = body.data_planes.find((d: { projects: string[] }) => d.projects.includes(projectId));
  assert.deepEqual(server, { server: `${gone.hostname}:1`, status: "down", projects: [projectId] });

  const scan = await app.request(`/api/v2/projects/${projectId}/sensitive_columns`, { headers: { authorization: `Bearer ${h.adminToken}` } });
  assert.equal(scan.status, 503);
  assert.match(scan.headers.get("retry-after") ?? "", /^\d+$/);
  const error = await scan.json();
  assert.equal(error.code, "UNAVAILABLE");
  assert.ok(error.request_id);
  assert.doesNotMatch(JSON.stringify(error), /postgres(ql)?:\/\//);

  const create = await app.request(`/api/v2/projects/${projectId}/branch_anonymized`, {
    method: "POST",
    headers: { authorization: `Bearer ${h.adminToken}`, "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(create.status, 503, "refused before anything is created");
  const rows = await h.services.db.$client`SELECT count(*)::int AS n FROM branches WHERE project_id = ${projectId} AND NOT is_default`;
  assert.equal(rows[0]!.n, 0);
});
