// The rate limiter's cost on the hot status route: GET …/anonymized_status
// through the app with a developer key, without and with the limiter (in
// memory per request; its counts flushed to the metadata database every 250 ms
// in the background, as the API does). Printed as ratios, nothing asserted.
import { createApp } from "../src/app.ts";
import { RateLimiter } from "../src/control/rate-limits.ts";
import { startHarness } from "../test/helpers/harness.ts";
import { createShop } from "../test/helpers/shop.ts";
import { compare } from "./harness.ts";

const shop = await createShop(200, "rlshop");
const h = await startHarness({ worker: false });
const { projectId } = await h.registerProject([shop.name], "bench");
const created = await h.request("POST", `/projects/${projectId}/branch_anonymized`, {});
const path = `/api/v2/projects/${projectId}/branches/${created.body.branch.id}/anonymized_status`;
const dev = await h.mintKey({ role: "developer", projects: [projectId] });

// Limits high enough never to refuse: the cost measured is the accounting itself.
const limiter = new RateLimiter({ perMinute: 1e9, burstPerSecond: 1e9, adminPerMinute: 0 });
const plain = createApp({ services: h.services, auth: { adminToken: h.adminToken } });
const limited = createApp({ services: h.services, auth: { adminToken: h.adminToken }, rateLimiter: limiter });
const flusher = setInterval(() => void limiter.flush(h.services.db).catch(() => {}), 250);

const batch = (app: typeof plain, n = 200) => async () => {
  for (let i = 0; i < n; i++) {
    const res = await app.request(path, { headers: { authorization: `Bearer ${dev.key}` } });
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    await res.arrayBuffer();
  }
};
await compare(
  "200 sequential GET …/anonymized_status with a developer key",
  { name: "without the rate limiter", run: batch(plain) },
  [{ name: "with the rate limiter (flushing every 250 ms)", run: batch(limited) }],
  7,
);
clearInterval(flusher);
await h.close();
await shop.drop();
