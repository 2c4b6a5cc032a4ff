// Rate limits per principal: Neon's defaults (700 requests a minute, 40 a
// second per route), 429 with Retry-After past them, the admin token not
// limited unless configured, and one budget shared by several API instances
// through the metadata database.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createApp } from "../src/app.ts";
import { parseConfig } from "../src/config.ts";
import { RateLimiter } from "../src/control/rate-limits.ts";
import { startHarness, waitFor, type Harness } from "./helpers/harness.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

const defaults = parseConfig({});
const neon = {
  perMinute: defaults.ANONBRANCH_RATE_LIMIT_PER_MINUTE,
  burstPerSecond: defaults.ANONBRANCH_RATE_LIMIT_BURST_PER_SECOND,
  adminPerMinute: defaults.ANONBRANCH_RATE_LIMIT_ADMIN_PER_MINUTE,
};

let h: Harness;
let shop: ShopDatabase;
let projectId: string;
let statusPath: string;

before(async () => {
  shop = await createShop(200, "rshop");
  h = await startHarness({ worker: false, rateLimits: neon });
  ({ projectId } = await h.registerProject([shop.name], "limited"));
  const res = await h.request("POST", `/projects/${projectId}/branch_anonymized`, {});
  assert.equal(res.status, 201, JSON.stringify(res.body));
  statusPath = `/projects/${projectId}/branches/${res.body.branch.id}/anonymized_status`;
});

after(async () => {
  await h?.close();
  await shop?.drop();
});

test("the defaults are Neon's: 700 requests a minute, 40 a second per route, the admin token not limited", () => {
  assert.deepEqual(neon, { perMinute: 700, burstPerSecond: 40, adminPerMinute: 0 });
});

describe("a burst with a ci key", () => {
  test("past 40 requests a second on a route: 429 with Retry-After; 2xx again after waiting", async () => {
    const ci = await h.mintKey({ role: "ci", projects: [projectId] });
    // Three times the burst at once: even split across a second's boundary, some must be refused.
    const answers = await Promise.all(Array.from({ length: 120 }, () => h.fetchRaw("GET", statusPath, ci.key)));
    const ok = answers.filter((r) => r.status === 200).length;
    const limited = answers.filter((r) => r.status === 429);
    assert.equal(ok + limited.length, 120, `only 200 and 429: ${answers.map((r) => r.status).join(",")}`);
    // However the burst falls across seconds, each admits 40 at most, and it took more than one second only on a very slow machine.
    assert.ok(ok >= 40, `${ok} admitted`);
    assert.ok(limited.length >= 1, "past the limit: 429");
    for (const r of limited) assert.match(r.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
    const body = await limited[0]!.json();
    assert.equal(body.code, "RATE_LIMITED");
    assert.match(body.message, /40 requests per second on GET \/api\/v2\/projects\/:project_id\/branches\/:branch_id\/anonymized_status/);
    assert.ok(body.request_id);
    // Another route is not affected by this one's burst.
    assert.equal((await h.fetchRaw("GET", `/projects/${projectId}`, ci.key)).status, 200);
    // After waiting, 2xx again.
    const later = await waitFor(() => h.fetchRaw("GET", statusPath, ci.key), (r) => r.status === 200, 10_000);
    assert.equal(later.status, 200);
  });

  test("the admin token is not limited by default", async () => {
    const answers = await Promise.all(Array.from({ length: 120 }, () => h.fetchRaw("GET", statusPath)));
    assert.deepEqual([...new Set(answers.map((r) => r.status))], [200]);
  });
});

describe("the per-minute budget, shared by several API instances", () => {
  test("instances A and B share 20 requests a minute through the metadata database", async () => {
    const limits = { perMinute: 20, burstPerSecond: 0, adminPerMinute: 5 };
    const a = new RateLimiter(limits);
    const b = new RateLimiter(limits);
    const appA = createApp({ services: h.services, auth: { adminToken: h.adminToken }, rateLimiter: a });
    const appB = createApp({ services: h.services, auth: { adminToken: h.adminToken }, rateLimiter: b });
    const dev = await h.mintKey({ role: "developer", projects: [projectId] });
    const get = (app: typeof appA) =>
      app.request(`/api/v2/projects/${projectId}`, { headers: { authorization: `Bearer ${dev.key}` } });

    for (let i = 0; i < 15; i++) assert.equal((await get(appA)).status, 200);
    await a.flush(h.services.db);
    assert.equal((await get(appB)).status, 200, "B has not heard of A's 15 yet");
    await b.flush(h.services.db); // B learns the shared total: 16
    for (let i = 0; i < 4; i++) assert.equal((await get(appB)).status, 200);
    const refused = await get(appB);
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.match((await refused.json()).message, /20 requests per minute/);
    await b.flush(h.services.db);
    await a.flush(h.services.db); // and A learns the total: 20
    assert.equal((await get(appA)).status, 429, "A refuses too: the budget is shared");

    // The admin limit is configurable: 5 a minute here.
    const admin = (app: typeof appA) => app.request(`/api/v2/projects/${projectId}`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    for (let i = 0; i < 5; i++) assert.equal((await admin(appA)).status, 200);
    assert.equal((await admin(appA)).status, 429);
  });
});
