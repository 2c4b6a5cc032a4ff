// The API's hot paths over real HTTP, 20 concurrent clients in a closed loop
// (autocannon, in its own process), each route's throughput as a ratio to a
// bare route on the same server (/healthz) — and the latency of creating a
// branch while another branch is being masked. Printed, never asserted.
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { createApp } from "../src/app.ts";
import { RateLimiter } from "../src/control/rate-limits.ts";
import { startHarness, waitFor } from "../test/helpers/harness.ts";
import { createShop } from "../test/helpers/shop.ts";

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const shop = await createShop(2000, "tput");
const big = await createShop(Number(process.env.BENCH_BACKGROUND_USERS ?? 400_000), "tputbig");
// As in production, the worker is a process of its own (npm start runs the parts apart); no
// endpoint proxy here; a wide port range so that 40 creates fit.
const h = await startHarness({ worker: false, endpoints: false, config: { ANONBRANCH_ENDPOINT_PORTS: { first: 40_000, last: 40_999 } } });
const worker = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "worker"], {
  env: { PATH: process.env.PATH, DATABASE_URL: h.metadataUrl, ANONBRANCH_SECRET_KEY: h.secretKey, ANONBRANCH_JWT_SECRET: "x".repeat(32), LOG_LEVEL: "warn",
         ANONBRANCH_STATE_DIR: `/tmp/anonbranch-bench-${process.pid}` },
  stdio: ["ignore", "ignore", "inherit"],
});
const { projectId } = await h.registerProject([shop.name], "throughput");
const bigProject = (await h.registerProject([big.name], "background")).projectId;
const dev = await h.mintKey({ role: "developer", projects: [projectId, bigProject] });
const made = await h.request("POST", `/projects/${projectId}/branch_anonymized`, { start_anonymization: true });
const branchId = made.body.branch.id as string;
await waitFor(async () => (await h.request("GET", `/projects/${projectId}/branches/${branchId}/anonymized_status`)).body.state, (s) => s === "anonymized");

// Served as the API part serves it: with the rate limiter (limits out of reach), flushing in the background.
const limiter = new RateLimiter({ perMinute: 1e9, burstPerSecond: 1e9, adminPerMinute: 0 });
const flusher = setInterval(() => void limiter.flush(h.services.db).catch(() => {}), 250);
const app = createApp({ services: h.services, auth: { adminToken: h.adminToken }, rateLimiter: limiter });
const server: ServerType = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise((resolve) => server.once("listening", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

function autocannon(path: string, token?: string): Promise<{ rps: number; p50: number; p99: number; errors: number; non2xx: number }> {
  const args = ["-c", "20", "-d", String(seconds), "-j", ...(token ? ["-H", `authorization=Bearer ${token}`] : []), `${base}${path}`];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["node_modules/autocannon/autocannon.js", ...args], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", () => {
      const r = JSON.parse(out);
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx });
    });
  });
}

const branch = `/api/v2/projects/${projectId}/branches/${branchId}`;
const routes: [string, string, string | undefined][] = [
  ["GET …/anonymized_status, developer key", `${branch}/anonymized_status`, dev.key],
  ["GET …/anonymized_status, admin token", `${branch}/anonymized_status`, h.adminToken],
  ["GET …/branches/{id}, developer key", branch, dev.key],
  ["GET …/branches, developer key", `/api/v2/projects/${projectId}/branches`, dev.key],
  ["GET …/masking_rules, developer key", `${branch}/masking_rules`, dev.key],
];
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`\nAPI throughput: 20 concurrent clients, closed loop (autocannon in its own process), ${seconds} s per run;`);
console.log(`each route alternated with the bare route /healthz, ${rounds} rounds, medians`);
for (const [name, path, token] of routes) {
  const bare: number[] = [];
  const route: { rps: number; p99: number; bad: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    bare.push((await autocannon("/healthz")).rps);
    const x = await autocannon(path, token);
    route.push({ rps: x.rps, p99: x.p99, bad: x.errors + x.non2xx });
  }
  const b = median(bare);
  const m = median(route.map((x) => x.rps));
  const bad = route.reduce((n, x) => n + x.bad, 0);
  console.log(`  ${name.padEnd(44)} ${m.toFixed(0).padStart(6)} req/s (p99 ${median(route.map((x) => x.p99))} ms) vs /healthz ${b.toFixed(0).padStart(6)} req/s: ${(m / b).toFixed(2)}x${bad ? `  (${bad} errors or non-2xx)` : ""}`);
}

// Creating branches (BENCH_CREATES in a row): first with nothing else running (the baseline), then while another (large)
// branch is being masked. Each create also starts its own clone and masking in the worker.
const createdIds: string[] = [];
const creates = Number(process.env.BENCH_CREATES ?? 100);
async function createRun(label: string, n = creates): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await fetch(`${base}/api/v2/projects/${projectId}/branch_anonymized`, {
      method: "POST",
      headers: { authorization: `Bearer ${dev.key}`, "content-type": "application/json" },
      body: JSON.stringify({ branch_create: { branch: { name: `bench-${label}-${i}` } } }),
    });
    latencies.push(performance.now() - t);
    const body = (await res.json()) as { branch?: { id: string } };
    if (res.status !== 201) throw new Error(`create answered ${res.status}: ${JSON.stringify(body)}`);
    createdIds.push(body.branch!.id);
  }
  return latencies.sort((a, b) => a - b);
}
/** Nearest-rank percentile of sorted samples. */
const pct = (xs: number[], p: number) => xs[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;
const line = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms   p90 ${pct(xs, 90).toFixed(1)} ms   p99 ${pct(xs, 99).toFixed(1)} ms`;

await createRun("warm-up", 5); // not counted: the first requests compile and fill caches
const quiet = await createRun("quiet");
// Let the worker finish those before the background branch starts.
await waitFor(
  async () => {
    const states = await Promise.all(createdIds.map(async (id) => (await h.request("GET", `/projects/${projectId}/branches/${id}/anonymized_status`)).body.state as string));
    return states.every((s) => s !== "created" && s !== "anonymizing");
  },
  (done) => done,
  600_000,
);
const background = await h.request("POST", `/projects/${bigProject}/branch_anonymized`, { start_anonymization: true }, dev.key);
const bgId = background.body.branch.id as string;
await waitFor(async () => (await h.request("GET", `/projects/${bigProject}/branches/${bgId}/anonymized_status`)).body.status_message as string, (m) => /^Anonymizing/.test(m), 600_000);
const busy = await createRun("busy");
const bgState = (await h.request("GET", `/projects/${bigProject}/branches/${bgId}/anonymized_status`)).body.status_message;
console.log(`\nPOST branch_anonymized, ${creates} in a row after 5 not counted, developer key (each starts its own clone and masking in the worker)`);
console.log(`  no large branch being masked (baseline)          ${line(quiet)}`);
console.log(`  while a ${Number(process.env.BENCH_BACKGROUND_USERS ?? 400_000).toLocaleString()}-row branch is masked       ${line(busy)}   p99 ${(pct(busy, 99) / pct(quiet, 99)).toFixed(2)}x`);
console.log(`  (background at the end: ${bgState})`);

clearInterval(flusher);
server.close();
for (const id of [...createdIds, branchId]) await h.request("DELETE", `/projects/${projectId}/branches/${id}`);
await waitFor(async () => (await h.request("GET", `/projects/${bigProject}/branches/${bgId}/anonymized_status`)).body.state, (s) => s !== "anonymizing" && s !== "created", 600_000);
await h.request("DELETE", `/projects/${bigProject}/branches/${bgId}`);
worker.kill("SIGTERM");
await new Promise((resolve) => worker.once("exit", resolve));
await h.close();
await shop.drop();
await big.drop();
