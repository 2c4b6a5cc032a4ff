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
// As in production, the worker is a process of its own (npm start runs the parts apart), the API's
// metadata pool has 10 connections and its log lines are not kept; no endpoint proxy here; a wide
// port range so that every create fits.
const h = await startHarness({
  worker: false,
  endpoints: false,
  pool: 10,
  logs: "discard",
  config: { ANONBRANCH_ENDPOINT_PORTS: { first: 40_000, last: 40_999 } },
});
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
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
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

// Create latency (BENCH_CREATES calls after 5 not counted), from a client process of its own (bench/create-client.ts):
// paced (each create's own clone finished before the next call) with nothing else running: the baseline; paced while
// a large branch is cloned and masked over and over (the issue's case); and in a burst, the worker's queue of clones
// growing for the whole run, while the large branch is masked.
const createdIds: string[] = [];
const creates = Number(process.env.BENCH_CREATES ?? 100);
interface CreateRun {
  sorted: number[];
  startedAt: number[];
}
async function createRun(label: string, mode: "burst" | "paced", n = creates): Promise<CreateRun> {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/create-client.ts", base, projectId, dev.key, label, String(n), mode], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(text) : reject(new Error(`create client exited with ${code}`))));
  });
  const { latencies, startedAt, ids } = JSON.parse(out) as { latencies: number[]; startedAt: number[]; ids: string[] };
  createdIds.push(...ids);
  return { sorted: [...latencies].sort((a, b) => a - b), startedAt };
}
/** Nearest-rank percentile of sorted samples. */
const pct = (xs: number[], p: number) => xs[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;
const line = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1).padStart(6)} ms   p90 ${pct(xs, 90).toFixed(1).padStart(6)} ms   p99 ${pct(xs, 99).toFixed(1).padStart(6)} ms`;

/**
 * Keeps a large branch being cloned and masked — create, wait for `anonymized`, delete, again — until stopped,
 * recording when it was in state `anonymizing`.
 */
function maskInBackground() {
  let stopping = false;
  let cycles = 0;
  let state = "";
  const masking: [number, number][] = [];
  const status = async (id: string) => (await h.request("GET", `/projects/${bigProject}/branches/${id}/anonymized_status`)).body as { state: string };
  const loop = (async () => {
    while (!stopping) {
      const made = await h.request("POST", `/projects/${bigProject}/branch_anonymized`, { start_anonymization: true }, dev.key);
      if (made.status !== 201) throw new Error(`background create answered ${made.status}: ${JSON.stringify(made.body)}`);
      const id = made.body.branch.id as string;
      let since: number | null = null;
      for (let s = await status(id); s.state !== "anonymized"; s = await status(id)) {
        state = s.state;
        if (s.state === "error" || s.state === "initialization_error") throw new Error(`background branch failed: ${JSON.stringify(s)}`);
        if (s.state === "anonymizing" && since === null) since = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (since !== null) masking.push([since, Date.now()]);
      await h.request("DELETE", `/projects/${bigProject}/branches/${id}`);
      cycles++;
    }
  })();
  return {
    /** Resolves once the first large branch is being masked. */
    started: () => waitFor(async () => state, (s) => s === "anonymizing", 600_000),
    async stop() {
      stopping = true;
      await loop;
      return { cycles, masking };
    },
  };
}

await createRun("warm-up", "paced", 5);
const quiet = await createRun("quiet", "paced");
const background = maskInBackground();
await background.started();
const busy = await createRun("busy", "paced");
const burst = await createRun("burst", "burst");
const { cycles, masking } = await background.stop();
const during = (r: CreateRun) => r.startedAt.filter((t) => masking.some(([a, b]) => t >= a && t <= b)).length;
const rows = Number(process.env.BENCH_BACKGROUND_USERS ?? 400_000).toLocaleString();
console.log(`\nPOST branch_anonymized, ${creates} calls after 5 not counted, developer key, from a client process of its own`);
console.log(`  paced (each branch cloned before the next call), nothing else running (baseline)   ${line(quiet.sorted)}`);
console.log(`  paced, while a ${rows}-user branch is cloned and masked                  ${line(busy.sorted)}   p99 ${(pct(busy.sorted, 99) / pct(quiet.sorted, 99)).toFixed(2)}x`);
console.log(`  burst (the worker's queue of clones grows), same background             ${line(burst.sorted)}   p99 ${(pct(burst.sorted, 99) / pct(quiet.sorted, 99)).toFixed(2)}x`);
console.log(`  (background: ${cycles} large branches cloned, masked and deleted; calls started while one was being masked: paced ${during(busy)}/${creates}, burst ${during(burst)}/${creates})`);

clearInterval(flusher);
server.close();
for (const id of [...createdIds, branchId]) await h.request("DELETE", `/projects/${projectId}/branches/${id}`);
worker.kill("SIGTERM");
await new Promise((resolve) => worker.once("exit", resolve));
await h.close();
await shop.drop();
await big.drop();
