// The API on Cloudflare Workers, for real: the bundle `wrangler deploy
// --dry-run` produces runs under workerd (Miniflare) against the test cluster
// over Workers TCP sockets, enqueues into pg-boss, and a separate Node worker
// process picks the jobs up. Everything goes through the Worker's HTTP.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Miniflare } from "miniflare";
import { physicalDatabaseName } from "../src/dataplane/names.ts";
import { startHarness, waitFor, type Harness } from "./helpers/harness.ts";
import { connect, testServerUrl } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";
import { buildWorkersBundle, startNodeProcess, startWorkerd, type NodeWorker, type WorkersBundle } from "./helpers/workerd.ts";

let shop: ShopDatabase;
let bundle: WorkersBundle;
let mf: Miniflare;
let worker: NodeWorker | undefined;
let node: Harness | undefined;
const metadataName = `meta_wk_${randomBytes(4).toString("hex")}`;
const adminToken = randomBytes(24).toString("base64url");
const env = {
  DATABASE_URL: testServerUrl(metadataName),
  ANONBRANCH_ADMIN_TOKEN: adminToken,
  ANONBRANCH_SECRET_KEY: randomBytes(32).toString("hex"),
  ANONBRANCH_JWT_SECRET: randomBytes(32).toString("base64url"),
  LOG_LEVEL: "warn",
};

async function call(method: string, path: string, body?: unknown, token: string | null = adminToken) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await mf.dispatchFetch(`http://anonbranch.test${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as any };
}

const emailRule = (database: string) => ({
  database_name: database,
  schema_name: "public",
  table_name: "users",
  column_name: "email",
  masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')",
});

before(async () => {
  shop = await createShop(300, "wshop");
  bundle = await buildWorkersBundle();
  // `npm run migrate`: the metadata schema, and pg-boss's schema and queues.
  const migrate = startNodeProcess("migrate", env);
  await migrate.ready;
  mf = startWorkerd(bundle, env);
  await mf.ready;
});

after(async () => {
  await mf?.dispose();
  await worker?.stop();
  await node?.close();
  const admin = connect(testServerUrl(), { max: 1 });
  await admin.unsafe(`DROP DATABASE IF EXISTS "${metadataName}" WITH (FORCE)`);
  await admin.end();
  await shop?.drop();
  bundle?.remove();
});

describe("the API under workerd", () => {
  test("wrangler deploy --dry-run bundles the Worker with the parser's WebAssembly module", () => {
    assert.ok(bundle.files.includes("workers.js"), bundle.files.join(", "));
    assert.ok(bundle.files.some((f) => f.endsWith("libpg-query.wasm")), bundle.files.join(", "));
    assert.match(bundle.output, /--dry-run: exiting now/);
  });

  test("health, readiness over a Workers TCP socket, and the error envelope", async () => {
    assert.deepEqual((await call("GET", "/healthz")).body, { status: "ok" });
    const ready = await call("GET", "/readyz");
    assert.equal(ready.status, 200);
    assert.deepEqual({ status: ready.body.status, metadata: ready.body.metadata }, { status: "ready", metadata: "up" });
    const anonymous = await call("GET", "/api/v2/projects", undefined, null);
    assert.equal(anonymous.status, 401);
    assert.deepEqual(Object.keys(anonymous.body).sort(), ["code", "message", "request_id"]);
  });

  test("a Worker deployed without its secrets says which to set, in the error envelope", async () => {
    const bare = startWorkerd(bundle, { DATABASE_URL: env.DATABASE_URL });
    try {
      const res = await bare.dispatchFetch("http://anonbranch.test/api/v2/projects");
      const body = (await res.json()) as Record<string, string>;
      assert.equal(res.status, 500);
      assert.equal(body.code, "MISCONFIGURED");
      assert.match(body.message!, /ANONBRANCH_ADMIN_TOKEN and ANONBRANCH_SECRET_KEY/);
      assert.ok(body.request_id);
      const invalid = startWorkerd(bundle, { ...env, ANONBRANCH_SECRET_KEY: "short" });
      try {
        const answer = (await (await invalid.dispatchFetch("http://anonbranch.test/healthz")).json()) as Record<string, string>;
        assert.equal(answer.code, "MISCONFIGURED");
        assert.match(answer.message!, /ANONBRANCH_SECRET_KEY: ANONBRANCH_SECRET_KEY must be at least 16 characters/);
        assert.doesNotMatch(answer.message!, /short/, "the value is never echoed");
      } finally {
        await invalid.dispose();
      }
    } finally {
      await bare.dispose();
    }
  });

  test("the OpenAPI document and the reference page are served by the Worker, as by Node", async () => {
    const doc = await mf.dispatchFetch("http://anonbranch.test/api/v2/openapi.json");
    assert.equal(doc.status, 200);
    const paths = Object.keys(((await doc.json()) as { paths: object }).paths);
    assert.ok(paths.includes("/projects/{project_id}/branch_anonymized"));
    const page = await mf.dispatchFetch("http://anonbranch.test/api/v2/docs");
    assert.equal(page.status, 200);
    const text = await page.text();
    for (const path of paths) assert.ok(text.includes(`<code>${path}</code>`), path);
  });

  test("masking rules are validated by the real PostgreSQL parser, exactly as on Node", async () => {
    node = await startHarness({ worker: false });
    const source = { connection_uri: testServerUrl("postgres"), databases: [shop.name] };
    const onWorkers = (await call("POST", "/api/v2/projects", { project: { name: "wk-rules", source } })).body.project.id;
    const onNode = (await node.request("POST", "/projects", { project: { name: "node-rules", source } })).body.project.id;
    const hostile = [
      "(select 1",
      "anon.fake_email() ; DROP TABLE users",
      "(SELECT email FROM users LIMIT 1)",
      "pg_catalog.pg_read_file('/etc/passwd')",
      "lower(email) -- )",
    ];
    for (const masking_function of hostile) {
      const body = {
        branch_create: { branch: { name: "hostile" } },
        masking_rules: [{ ...emailRule(shop.name), masking_function }],
      };
      const w = await call("POST", `/api/v2/projects/${onWorkers}/branch_anonymized`, body);
      const n: { body: { code: string; message: string } } = await node.request("POST", `/projects/${onNode}/branch_anonymized`, body);
      assert.equal(w.status, 422, `${masking_function}: ${JSON.stringify(w.body)}`);
      assert.equal(w.body.message, n.body.message, masking_function);
      assert.equal(w.body.code, n.body.code);
    }
    const parseError = await call("POST", `/api/v2/projects/${onWorkers}/branch_anonymized`, {
      branch_create: { branch: { name: "hostile" } },
      masking_rules: [{ ...emailRule(shop.name), masking_function: "(select 1" }],
    });
    assert.match(parseError.body.message, /masking_rules\[0\]: masking_function does not parse: syntax error/);
  });

  test("register → create anonymized branch → anonymized → delete, with the Node worker doing the work", async () => {
    const project = await call("POST", "/api/v2/projects", {
      project: { name: "shop", source: { connection_uri: testServerUrl("postgres"), databases: [shop.name] } },
    });
    assert.equal(project.status, 201, JSON.stringify(project.body));
    const projectId = project.body.project.id;

    // Enqueued by the Worker while no Node worker runs: the job waits in pg-boss.
    const created = await call("POST", `/api/v2/projects/${projectId}/branch_anonymized`, {
      branch_create: { branch: { name: "pr-7" } },
      masking_rules: [emailRule(shop.name)],
      start_anonymization: true,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const branchId = created.body.branch.id;
    const waiting = await call("GET", `/api/v2/projects/${projectId}/branches/${branchId}/anonymized_status`);
    assert.equal(waiting.body.state, "created");

    worker = startNodeProcess("worker", env);
    await worker.ready;
    const status = await waitFor(
      async () => (await call("GET", `/api/v2/projects/${projectId}/branches/${branchId}/anonymized_status`)).body,
      (s) => s.state === "anonymized" || /error/.test(s.state),
      120_000,
    );
    assert.equal(status.state, "anonymized", status.status_message);
    assert.equal(status.last_run.masked_columns, 1);

    // The branch database the worker made is masked.
    const databases = await call("GET", `/api/v2/projects/${projectId}/branches/${branchId}/databases`);
    assert.equal(databases.body.databases[0].name, shop.name);
    const physical = physicalDatabaseName(branchId, shop.name);
    const admin = connect(testServerUrl(), { max: 1 });
    const exists = async () =>
      (await admin`SELECT 1 FROM pg_catalog.pg_database WHERE datname = ${physical}`).length === 1;
    assert.ok(await exists(), `the branch database ${physical} exists on the server`);
    const masked = connect(testServerUrl(physical), { max: 1 });
    const leaked = await masked`SELECT count(*)::int AS n FROM users WHERE email LIKE '%@shop.example'`;
    await masked.end();
    assert.equal(leaked[0]!.n, 0);

    const deleted = await call("DELETE", `/api/v2/projects/${projectId}/branches/${branchId}`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal(deleted.body.branch.id, branchId);
    const gone = await waitFor(
      async () => (await call("GET", `/api/v2/projects/${projectId}/branches/${branchId}`)).status,
      (s) => s === 404,
    );
    assert.equal(gone, 404);
    assert.equal(await waitFor(exists, (present) => !present), false, "the worker dropped the branch database");
    await admin.end();
  });
});
