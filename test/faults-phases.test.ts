// PostgreSQL restarted (pg_ctl -m fast, then -m immediate) during each phase
// of a branch's life, under the service as `npm start` runs it: clone, labels,
// masking, hardening, delete; and during a burst of API calls. Each phase is
// held open where it can be (a session on the parent, a lock on a table of the
// branch), so the restart lands inside it, not after. Every branch ends as
// asked (anonymized, or gone), nothing is orphaned, and callers see 2xx or 503.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type { Sql } from "./helpers/pg.ts";
import { startOwnCluster, type OwnCluster } from "./helpers/own-cluster.ts";
import { startService, type Service } from "./helpers/service.ts";

let cluster: OwnCluster;
let s: Service;
let shop: { name: string; drop(): Promise<void> };
let projectId: string;
let connect: (url: string, options?: object) => Sql;
const created: string[] = [];
const deleted: string[] = [];

before(async () => {
  cluster = startOwnCluster();
  process.env.ANONBRANCH_TEST_PG_URL = cluster.url;
  ({ connect } = await import("./helpers/pg.ts"));
  const { createShop } = await import("./helpers/shop.ts");
  shop = await createShop(60_000, "phase");
  // PostgreSQL Anonymizer's procedure (UPDATE, then VACUUM FULL): a hardening phase a reader can hold open.
  // The one-pass rewrite goes through restarts in faults-masking.test.ts.
  s = await startService(cluster.url, { ANONBRANCH_MASKING_STRATEGY: "anon" });
  const project = await s.request("POST", "/projects", {
    project: { name: "phases", source: { connection_uri: cluster.url, databases: [shop.name] } },
  });
  assert.equal(project.status, 201, JSON.stringify(project.body));
  projectId = project.body.project.id;
});

after(async () => {
  if (s && s.process.exitCode === null) await s.stop();
  cluster?.stop();
});

const rules = () => [
  { database_name: shop.name, schema_name: "public", table_name: "users", column_name: "email", masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')" },
  { database_name: shop.name, schema_name: "public", table_name: "orders", column_name: "note", masking_value: "'redacted'" },
];
const dbUrl = (name: string) => cluster.url.replace(/\/postgres$/, `/${name}`);
const branchDb = (id: string) => `${id.replaceAll("-", "_")}__${shop.name}`;

async function status(id: string): Promise<{ state: string; status_message: string } | null> {
  const res = await s.request("GET", `/projects/${projectId}/branches/${id}/anonymized_status`).catch(() => null);
  return res?.status === 200 ? res.body : null;
}

/** Polls until `ok` holds; answers a 503 or a dropped request with another try. */
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await delay(20);
  }
}

async function createBranch(start: boolean): Promise<string> {
  const res = await s.request("POST", `/projects/${projectId}/branch_anonymized`, { masking_rules: rules(), start_anonymization: start });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  created.push(res.body.branch.id);
  return res.body.branch.id;
}

const settled = (id: string, state: string) => until(`${id} ${state}`, () => status(id), (v) => v?.state === state, 180_000);

/** Runs `sql` in a session that stays open (holding what it took) until the restart ends it. */
async function hold(url: string, statements: string[]): Promise<Sql> {
  const session = connect(url, { max: 1 });
  const conn = await session.reserve();
  for (const statement of statements) await conn.unsafe(statement);
  return session;
}

for (const mode of ["fast", "immediate"] as const) {
  describe(`pg_ctl restart -m ${mode}`, () => {
    test("during clone (waiting on the parent's last session): the branch is cloned and anonymized after", async () => {
      const parentSession = await hold(dbUrl(shop.name), ["SELECT 1"]);
      const id = await createBranch(true);
      await until("the clone to wait for the parent", () => status(id), (v) => /waiting for 1 session on/.test(v?.status_message ?? ""));
      await cluster.restart(mode);
      await parentSession.end({ timeout: 1 }).catch(() => {});
      assert.equal((await settled(id, "anonymized"))?.state, "anonymized");
    });

    test("during labels (objects handed over, labels applied): the run resumes and masks", async () => {
      const id = await createBranch(false);
      await settled(id, "initialized");
      const lock = await hold(dbUrl(branchDb(id)), ["BEGIN", "LOCK TABLE users IN ACCESS SHARE MODE"]);
      const run = await s.request("POST", `/projects/${projectId}/branches/${id}/anonymize`);
      assert.equal(run.status, 200, JSON.stringify(run.body));
      await until("the run to block while preparing", () => status(id), (v) => v?.status_message === "Preparing anonymization");
      await cluster.restart(mode);
      await lock.end({ timeout: 1 }).catch(() => {});
      assert.equal((await settled(id, "anonymized"))?.state, "anonymized");
    });

    test("during masking: the run starts again and masks every row", async () => {
      const id = await createBranch(true);
      await until("masking", () => status(id), (v) => /^Anonymizing table/.test(v?.status_message ?? ""));
      await cluster.restart(mode);
      assert.equal((await settled(id, "anonymized"))?.state, "anonymized");
    });

    test("during hardening (VACUUM FULL waiting on a reader): the branch ends hardened and anonymized", async () => {
      const id = await createBranch(true);
      await until("masking of the last table", () => status(id), (v) => /^Anonymizing table .*users \(2\/2\)/.test(v?.status_message ?? ""));
      // A reader's ACCESS SHARE lock lets the masking UPDATE through and stops VACUUM FULL.
      const reader = await hold(dbUrl(branchDb(id)), ["BEGIN", "LOCK TABLE users IN ACCESS SHARE MODE"]);
      await until("hardening", () => status(id), (v) => /^Hardening/.test(v?.status_message ?? ""));
      await cluster.restart(mode);
      await reader.end({ timeout: 1 }).catch(() => {});
      assert.equal((await settled(id, "anonymized"))?.state, "anonymized");
    });

    test("during delete (DROP DATABASE waiting on a catalog lock): the databases and role are gone after", async () => {
      const id = await createBranch(true);
      await settled(id, "anonymized");
      const catalogLock = await hold(cluster.url, ["BEGIN", "LOCK TABLE pg_catalog.pg_database IN SHARE MODE"]);
      const res = await s.request("DELETE", `/projects/${projectId}/branches/${id}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      deleted.push(id);
      const observer = connect(cluster.url, { max: 1 });
      await until(
        "DROP DATABASE to wait",
        async () => (await observer`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'DROP DATABASE%' AND wait_event_type = 'Lock'`)[0]!.n,
        (n) => n > 0,
      );
      await observer.end();
      await cluster.restart(mode);
      await catalogLock.end({ timeout: 1 }).catch(() => {});
      const admin = connect(cluster.url, { max: 1 });
      await until(
        "the branch's database and role to be dropped",
        async () => (await admin`SELECT (SELECT count(*) FROM pg_database WHERE datname = ${branchDb(id)})::int + (SELECT count(*) FROM pg_roles WHERE starts_with(rolname, ${`${id.replaceAll("-", "_")}_`}))::int AS n`)[0]!.n,
        (n) => n === 0,
      );
      await admin.end();
    });

    test("during a burst of API calls: every answer is 2xx or 503, and each created branch exists once", async () => {
      const calls = Array.from({ length: 40 }, (_, i) =>
        i % 4 === 0
          ? s.request("POST", `/projects/${projectId}/branch_anonymized`, { masking_rules: rules(), start_anonymization: true })
          : s.request("GET", i % 4 === 1 ? `/projects/${projectId}/branches` : i % 4 === 2 ? `/projects/${projectId}` : `/projects/${projectId}/branches/${created[0]}/anonymized_status`),
      );
      const restarted = cluster.restart(mode);
      const answers = await Promise.all(calls.map((c) => c.catch((error: Error) => ({ status: `network error: ${error.cause ?? error}`, body: null }))));
      await restarted;
      // And a second wave while the server is still coming back.
      const statuses = answers.map((a) => String(a.status));
      assert.ok(statuses.every((st) => /^(200|201|503)$/.test(st)), `${JSON.stringify(statuses)}\n${s.partExits().join("\n")}`);
      const ids = answers.filter((a) => a.status === 201).map((a) => a.body.branch.id as string);
      created.push(...ids);
      const list = await until("the branch list", () => s.request("GET", `/projects/${projectId}/branches?limit=400`), (r) => r.status === 200);
      const listed = new Set(list.body.branches.map((b: { id: string }) => b.id));
      for (const id of ids) assert.ok(listed.has(id), `created branch ${id} is listed`);
      for (const id of ids) assert.equal((await settled(id, "anonymized"))?.state, "anonymized");
    });
  });
}

test("afterwards: the service is up, and the server holds exactly the live branches' databases and roles", async (t) => {
  t.diagnostic(`parts restarted by the supervisor: ${s.partExits().length}`);
  assert.equal(s.process.exitCode, null);
  assert.equal((await fetch(`${s.base}/healthz`)).status, 200);
  const list = await s.request("GET", `/projects/${projectId}/branches?limit=400`);
  const live = list.body.branches.filter((b: { default: boolean }) => !b.default).map((b: { id: string }) => b.id.replaceAll("-", "_")).sort();
  assert.equal(live.length, created.length - deleted.length, "every branch created over the API is listed, none twice");
  const admin = connect(cluster.url, { max: 1 });
  try {
    const dbs = await admin`SELECT datname FROM pg_database WHERE datname LIKE 'br\\_%' ORDER BY 1`;
    const roles = await admin`SELECT rolname FROM pg_roles WHERE rolname LIKE 'br\\_%' ORDER BY 1`;
    assert.deepEqual(dbs.map((r) => r.datname), live.map((stem: string) => `${stem}__${shop.name}`));
    assert.deepEqual(roles.map((r) => r.rolname), live.flatMap((stem: string) => [`${stem}_mask`, `${stem}_owner`]));
  } finally {
    await admin.end();
  }
  assert.equal(await s.stop(), 0);
});
