// `npm start`'s supervisor with its real parts: a part killed outright is
// restarted and the reason logged, the others keep serving; SIGTERM stops all.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { testServerUrl } from "./helpers/pg.ts";
import { startService, type Service } from "./helpers/service.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let s: Service;
let shop: ShopDatabase;

before(async () => {
  shop = await createShop(200, "sup");
  s = await startService(testServerUrl());
});

after(async () => {
  if (s && s.process.exitCode === null) await s.stop();
  await shop?.drop();
});

/** The supervisor's child running `part` (read from /proc: no ps needed). */
function partPid(part: string): number | null {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      if (ppid === s.process.pid && cmd.at(-2)?.endsWith("src/main.ts") && cmd.at(-1) === part) return Number(entry);
    } catch {
      // the process ended meanwhile
    }
  }
  return null;
}

test("a worker killed with SIGKILL is restarted, the reason logged; the API kept answering; work goes on", async () => {
  const deadline = Date.now() + 60_000;
  while (partPid("worker") === null) {
    if (Date.now() > deadline) assert.fail("no worker part");
    await delay(100);
  }
  const first = partPid("worker")!;
  process.kill(first, "SIGKILL");
  assert.equal((await fetch(`${s.base}/healthz`)).status, 200, "the API is another process");
  for (;;) {
    const next = partPid("worker");
    if (next !== null && next !== first) break;
    if (Date.now() > deadline + 30_000) assert.fail("the worker was not restarted");
    await delay(100);
  }
  const exits = s.partExits().map((l) => JSON.parse(l));
  assert.ok(exits.some((e) => e.part === "worker" && e.signal === "SIGKILL" && /restarting in \d+ ms/.test(e.msg)), JSON.stringify(exits));

  // The new worker does the work.
  const project = await s.request("POST", "/projects", { project: { name: "sup", source: { connection_uri: testServerUrl(), databases: [shop.name] } } });
  assert.equal(project.status, 201, JSON.stringify(project.body));
  const branch = await s.request("POST", `/projects/${project.body.project.id}/branch_anonymized`, { start_anonymization: true, masking_rules: [] });
  assert.equal(branch.status, 201, JSON.stringify(branch.body));
  const path = `/projects/${project.body.project.id}/branches/${branch.body.branch.id}/anonymized_status`;
  while ((await s.request("GET", path)).body.state !== "anonymized") {
    if (Date.now() > deadline + 90_000) assert.fail("the branch was not anonymized");
    await delay(200);
  }
});

test("SIGTERM stops every part and the supervisor exits 0", async () => {
  const api = partPid("api");
  assert.ok(api);
  assert.equal(await s.stop(), 0);
  assert.equal(partPid("api"), null);
  assert.equal(partPid("worker"), null);
});
