// The service as `npm start` runs it, PostgreSQL restarted 5 times (fast and
// immediate, alternately) while branches are being masked, and a client
// polling their status all along. Afterwards the service is up (its
// supervisor restarts a part at worst), every branch is anonymized, nothing
// is left behind on the server, and the client only ever saw 2xx or 503.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { startOwnCluster, type OwnCluster } from "./helpers/own-cluster.ts";
import { startService, type Service } from "./helpers/service.ts";

let cluster: OwnCluster;
let service: Service | undefined;
let shop: { name: string; drop(): Promise<void> };

before(async () => {
  cluster = startOwnCluster();
  // Helpers below (createShop, connect) use the run's server URL: this file's own cluster.
  process.env.ANONBRANCH_TEST_PG_URL = cluster.url;
  const { createShop } = await import("./helpers/shop.ts");
  // Big enough that masking takes a few seconds here, small enough to keep the suite fast.
  shop = await createShop(150_000, "fault");
});

after(async () => {
  if (service && service.process.exitCode === null) await service.stop();
  cluster?.stop();
});

const rules = (db: string) => [
  { database_name: db, schema_name: "public", table_name: "users", column_name: "email", masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')" },
  { database_name: db, schema_name: "public", table_name: "users", column_name: "name", masking_value: "'Jane Doe'" },
  { database_name: db, schema_name: "public", table_name: "orders", column_name: "note", masking_value: "'redacted'" },
];

test("5 restarts during masking: the service stays up, every branch ends anonymized, nothing orphaned, the client sees only 2xx and 503", async (t) => {
  service = await startService(cluster.url, { ANONBRANCH_WORKER_CONCURRENCY: "2" });
  const s = service;
  const project = await s.request("POST", "/projects", {
    project: { name: "faults", source: { connection_uri: cluster.url, databases: [shop.name] } },
  });
  assert.equal(project.status, 201, JSON.stringify(project.body));
  const projectId = project.body.project.id as string;
  const ids: string[] = [];
  for (const name of ["masked-a", "masked-b"]) {
    const res = await s.request("POST", `/projects/${projectId}/branch_anonymized`, {
      branch_create: { branch: { name } },
      masking_rules: rules(shop.name),
      start_anonymization: true,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    ids.push(res.body.branch.id);
  }

  // The client: polls every branch's status until told to stop, keeping every answer.
  const seen = new Map<string, number>();
  const latest = new Map<string, { state: string; status_message: string; last_run?: { started_at?: string } }>();
  const waitingMessages = new Set<string>();
  // What the client saw change, with how long each answer took: the story a failure tells.
  const timeline: string[] = [];
  const t0 = Date.now();
  let slowest = 0;
  let polling = true;
  const client = (async () => {
    while (polling) {
      for (const id of ids) {
        let key: string;
        const asked = Date.now();
        try {
          const res = await s.request("GET", `/projects/${projectId}/branches/${id}/anonymized_status`);
          key = String(res.status);
          const took = Date.now() - asked;
          slowest = Math.max(slowest, took);
          const seenAs = res.status === 200 ? `${res.body.state}: ${res.body.status_message}` : `${res.status}`;
          const before = latest.get(id);
          if (res.status !== 200 || !before || `${before.state}: ${before.status_message}` !== seenAs) {
            timeline.push(`+${asked - t0} ms ${id.slice(-6)} (${took} ms) ${seenAs}`);
          }
          if (res.status === 200) latest.set(id, res.body);
          if (res.status === 200 && /^Waiting for /.test(res.body.status_message)) waitingMessages.add(res.body.status_message);
          if (res.status === 503) assert.match(res.headers.get("retry-after") ?? "", /^\d+$/, "503 carries Retry-After");
        } catch (error) {
          key = `network error: ${(error as Error).cause ?? error}`;
        }
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      await delay(50);
    }
  })();

  // A restart hits an attempt at masking; the next restart waits for a new attempt
  // (a fresh last_run.started_at), not for the status the dead attempt left behind.
  const hit = new Map<string, string | undefined>();
  const maskingNow = () =>
    ids.filter((id) => {
      const b = latest.get(id);
      return b?.state === "anonymizing" && b.status_message.startsWith("Anonymizing table") && (!hit.has(id) || hit.get(id) !== b.last_run?.started_at);
    });
  const modes = ["fast", "immediate", "fast", "immediate", "fast"] as const;
  let reruns = 0;
  for (const [i, mode] of modes.entries()) {
    const deadline = Date.now() + 120_000;
    let rerunAsked = false;
    while (maskingNow().length === 0) {
      if (Date.now() > deadline) {
        assert.fail(`restart ${i + 1}: no branch reached masking again; slowest answer ${slowest} ms; seen ${JSON.stringify(Object.fromEntries(seen))}\n${timeline.slice(-60).join("\n")}`);
      }
      // Masking got through before it could be hit (it takes seconds here): a rerun masks again.
      if (!rerunAsked && ids.every((id) => latest.get(id)?.state === "anonymized")) {
        rerunAsked = true;
        reruns += 1;
        const res = await s.request("POST", `/projects/${projectId}/branches/${ids[i % ids.length]}/anonymize`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
      await delay(20);
    }
    for (const id of maskingNow()) hit.set(id, latest.get(id)!.last_run?.started_at);
    await cluster.restart(mode);
  }

  const deadline = Date.now() + 240_000;
  while (!ids.every((id) => ["anonymized", "error", "initialization_error"].includes(latest.get(id)?.state ?? ""))) {
    if (Date.now() > deadline) assert.fail(`branches did not settle: ${JSON.stringify([...latest.entries()])}`);
    await delay(100);
  }
  polling = false;
  await client;

  const partRestarts = s.partExits().filter((l) => l.includes("exited; restarting"));
  const logLines = s.output.join("").split("\n");
  const rescheduled = logLines.filter((l) => l.includes("rescheduled after an outage")).length;
  const resumed = logLines.filter((l) => l.includes("resumed interrupted jobs")).length;
  t.diagnostic(`jobs rescheduled after an outage: ${rescheduled}; resumed by maintenance: ${resumed}`);
  t.diagnostic(`client saw ${JSON.stringify(Object.fromEntries(seen))}, slowest answer ${slowest} ms; parts restarted by the supervisor: ${partRestarts.length}; reruns asked for: ${reruns}`);
  for (const id of ids) assert.equal(latest.get(id)!.state, "anonymized", `${id}: ${latest.get(id)!.status_message}`);
  const statuses = [...seen.keys()].sort();
  assert.ok(statuses.every((k) => k === "200" || k === "503"), `the client saw ${JSON.stringify(Object.fromEntries(seen))}\n${s.partExits().join("\n")}`);
  // Every restart cut a masking job short, and each came back. (Whether the client saw a 503
  // depends on whether it asked during the outage or was answered from the API's cache.)
  assert.ok(rescheduled + resumed >= modes.length, `jobs brought back: ${rescheduled} rescheduled, ${resumed} resumed`);
  // While a job waited for the server to come back, its branch said so.
  assert.ok(
    [...waitingMessages].some((m) => /^Waiting for the (metadata database|data-plane server \S+) to be reachable again \(.+\); retry \d+ in \d+ s$/.test(m)),
    `status messages seen: ${JSON.stringify([...waitingMessages])}`,
  );

  // The service is up: its supervisor never exited, and the API answers.
  assert.equal(s.process.exitCode, null, "the supervisor is still running");
  assert.equal((await fetch(`${s.base}/healthz`)).status, 200);

  // Masked, and exactly one database and the two roles of each branch on the server: nothing orphaned.
  const { connect } = await import("./helpers/pg.ts");
  const admin = connect(cluster.url, { max: 1 });
  try {
    const stems = ids.map((id) => id.replaceAll("-", "_")).sort();
    const dbs = await admin`SELECT datname FROM pg_database WHERE datname LIKE 'br\\_%' ORDER BY 1`;
    const roles = await admin`SELECT rolname FROM pg_roles WHERE rolname LIKE 'br\\_%' ORDER BY 1`;
    assert.deepEqual(dbs.map((r) => r.datname), stems.map((stem) => `${stem}__${shop.name}`));
    // The owner and the masker (no gateway: nobody connected), none able to log in.
    assert.deepEqual(roles.map((r) => r.rolname), stems.flatMap((stem) => [`${stem}_mask`, `${stem}_owner`]));
    const [loginable] = await admin`SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'br\\_%' AND rolcanlogin`;
    assert.equal(loginable!.n, 0, "a branch role was left able to log in");
    for (const stem of stems) {
      const branchDb = connect(cluster.url.replace(/\/postgres$/, `/${stem}__${shop.name}`), { max: 1 });
      const [row] = await branchDb`SELECT count(*) FILTER (WHERE email LIKE 'customer%' OR name <> 'Jane Doe')::int AS unmasked, count(*)::int AS n FROM users`;
      await branchDb.end();
      assert.deepEqual(row, { unmasked: 0, n: 150_000 }, stem);
    }
  } finally {
    await admin.end();
  }

  // And it still stops cleanly.
  assert.equal(await s.stop(), 0, "SIGTERM stops every part and the supervisor exits 0");
});
