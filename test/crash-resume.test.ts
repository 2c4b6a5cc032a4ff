// A worker killed with SIGKILL at any step of create + anonymize, then
// restarted, brings every branch to `anonymized`, and the data plane holds
// exactly one database and the branch's two roles: none orphaned, none twice.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startHarness, waitFor, type Harness } from "./helpers/harness.ts";
import { connect, testServerUrl } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

/** Every crash point of src/jobs (grep crashPoint): each one a moment the worker dies. */
const crashPoints = [
  "after-role",
  "after-clone",
  "after-prepare",
  "before-initialized",
  "after-sync",
  "mid-table",
  "after-mask",
  "mid-harden",
  "before-grant",
  "before-anonymized",
];

let h: Harness;
let shop: ShopDatabase;
let projectId: string;
const stateDir = mkdtempSync(join(tmpdir(), "anonbranch-worker-"));
const workers = new Set<ChildProcess>();

function startWorker(crashAt?: string): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "worker"], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: h.metadataUrl,
      ANONBRANCH_SECRET_KEY: h.secretKey,
      ANONBRANCH_STATE_DIR: stateDir,
      ANONBRANCH_WORKER_CONCURRENCY: "1",
      LOG_LEVEL: "warn",
      ...(crashAt ? { ANONBRANCH_CRASH_AT: crashAt } : {}),
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr!.on("data", (chunk: Buffer) => h.logs.push(chunk.toString()));
  workers.add(child);
  child.once("exit", () => workers.delete(child));
  return child;
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  await once(child, "exit");
}

const state = async (id: string) => (await h.request("GET", `/projects/${projectId}/branches/${id}/anonymized_status`)).body;

before(async () => {
  shop = await createShop(300, "cshop");
  h = await startHarness({ worker: false });
  const res = await h.request("POST", "/projects", {
    project: { name: "crash", source: { connection_uri: testServerUrl("postgres"), databases: [shop.name] } },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  projectId = res.body.project.id;
});

after(async () => {
  for (const w of workers) w.kill("SIGKILL");
  await h?.close();
  await shop?.drop();
});

describe("crash and resume", () => {
  const branchIds: string[] = [];

  for (const point of crashPoints) {
    test(`killed at ${point}, restarted: the branch ends anonymized`, async () => {
      const doomed = startWorker(point);
      const res = await h.request("POST", `/projects/${projectId}/branch_anonymized`, {
        masking_rules: [
          {
            database_name: shop.name,
            schema_name: "public",
            table_name: "users",
            column_name: "email",
            masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')",
          },
          { database_name: shop.name, schema_name: "public", table_name: "orders", column_name: "note", masking_value: "'redacted'" },
        ],
        start_anonymization: true,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const id = res.body.branch.id as string;
      branchIds.push(id);
      const [, signal] = await once(doomed, "exit");
      assert.equal(signal, "SIGKILL", `the worker died at ${point}`);
      const before = await state(id);
      assert.notEqual(before.state, "anonymized", "it died before finishing");

      const survivor = startWorker();
      try {
        const final = await waitFor(() => state(id), (s) => ["anonymized", "error", "initialization_error"].includes(s.state), 90_000);
        assert.equal(final.state, "anonymized", final.status_message);
        assert.equal(final.last_run.masked_columns, 2);
      } finally {
        await stopWorker(survivor);
      }
    });
  }

  test("the data plane holds exactly one database and its owner and masker roles per branch", async () => {
    const admin = connect(testServerUrl(), { max: 1 });
    try {
      // Everything a job of these branches could have created carries the branch's stem.
      const stems = branchIds.map((id) => id.replaceAll("-", "_")).sort();
      const patterns = stems.map((s) => `${s}%`);
      const dbs = await admin`SELECT datname FROM pg_database WHERE datname LIKE ANY(${patterns}) ORDER BY 1`;
      const roles = await admin`SELECT rolname FROM pg_roles WHERE rolname LIKE ANY(${patterns}) ORDER BY 1`;
      assert.deepEqual(dbs.map((r) => r.datname), stems.map((s) => `${s}__${shop.name}`));
      // Owner and masker; no gateway (nobody connected), nothing left able to log in.
      assert.deepEqual(roles.map((r) => r.rolname), stems.flatMap((s) => [`${s}_mask`, `${s}_owner`]));
      const [canLogin] = await admin`SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE ANY(${patterns}) AND rolcanlogin`;
      assert.equal(canLogin!.n, 0, "a branch role was left able to log in");
      for (const id of branchIds) {
        const branchDb = connect(testServerUrl(`${id.replaceAll("-", "_")}__${shop.name}`), { max: 1 });
        const [masked] = await branchDb`
          SELECT count(*) FILTER (WHERE email LIKE 'customer%')::int AS leaked,
                 (SELECT count(*) FROM pg_trigger WHERE tgenabled = 'D')::int AS disabled_triggers
          FROM users`;
        await branchDb.end();
        assert.deepEqual(masked, { leaked: 0, disabled_triggers: 0 }, `branch ${id}`);
      }
    } finally {
      await admin.end();
    }
  });
});
