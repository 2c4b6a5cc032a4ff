// The endpoint engine's cost: pgbench select-only (8 clients) through the
// engine vs. straight to the server, and connection set-up time (connect +
// authenticate + first query) through vs. direct. Printed as ratios against
// the direct runs measured in this process. Targets: throughput ratio ≥ 0.8,
// set-up p50 within 2× direct.
//
// Direct runs use TCP with trust (no authentication at all): the strictest
// baseline. Through the engine the client authenticates with SCRAM-SHA-256
// and the engine logs in to the server over TCP. A second direct baseline
// over the Unix socket with SCRAM shows what password authentication itself
// costs.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { createEndpointServer, scramVerifierFor } from "../src/endpoint/index.ts";
import { createLogger } from "../src/lib/log.ts";
import { createScratchDatabase, testServerUrl } from "../test/helpers/pg.ts";

const run = promisify(execFile);
const PGBENCH = "/usr/lib/postgresql/15/bin/pgbench";
const SECONDS = Number(process.env.ENDPOINT_BENCH_SECONDS ?? 5);
const ROUNDS = 3;
const SETUP_CONNECTIONS = 200;

const server = new URL(testServerUrl());
const serverPort = Number(server.port);
const db = await createScratchDatabase("epbench");
const benchRole = `epbench_${Date.now().toString(36)}`;
const benchPassword = "bench-password";
await db.sql.unsafe(`CREATE ROLE "${benchRole}" LOGIN PASSWORD '${benchPassword}'`);

const password = "endpoint-bench-pw";
const verifier = scramVerifierFor(password); // stored once, as the coordinator will
const engine = createEndpointServer({
  tls: null,
  limits: { maxClients: 200, authTimeoutMs: 10_000, idleTimeoutMs: 0, maxStartupBytes: 8192 },
  log: createLogger("warn"),
  lookup: async () => ({
    verifier,
    open: async () => ({
      host: "127.0.0.1",
      port: serverPort,
      ssl: "disable",
      user: "postgres",
      password: "",
      database: db.name,
      login: (authenticate) => authenticate(),
    }),
  }),
});
const enginePort = await engine.listen(0, "127.0.0.1");

const pgEnv = (extra: Record<string, string>) => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PG")) env[k] = v;
  return { ...env, ...extra };
};
const direct = { PGHOST: "127.0.0.1", PGPORT: String(serverPort), PGUSER: "postgres", PGDATABASE: db.name };
const through = { PGHOST: "127.0.0.1", PGPORT: String(enginePort), PGUSER: "alice", PGDATABASE: "branchdb", PGPASSWORD: password };

await run(PGBENCH, ["-i", "-q", "-s", "4"], { env: pgEnv(direct) });

interface PgbenchRun {
  tps: number;
  /** Average connect + authenticate time pgbench reports (with -C, a new connection per transaction). */
  connectionMs: number | null;
  /** CPU this process (the engine) spent per transaction, in microseconds. */
  engineCpuUs: number;
}

async function pgbench(env: Record<string, string>, extra: string[] = []): Promise<PgbenchRun> {
  const cpu = process.cpuUsage();
  const { stdout } = await run(PGBENCH, ["-n", "-S", "-c", "8", "-j", "2", "-T", String(SECONDS), ...extra], { env: pgEnv(env) });
  const used = process.cpuUsage(cpu);
  const tpsMatch = /tps = ([\d.]+) \((?:without initial connection time|including reconnection times)\)/.exec(stdout);
  const txMatch = /number of transactions actually processed: (\d+)/.exec(stdout);
  if (!tpsMatch || !txMatch) throw new Error(`pgbench printed no tps:\n${stdout}`);
  const connection = /average connection time = ([\d.]+) ms/.exec(stdout);
  return {
    tps: Number(tpsMatch[1]),
    connectionMs: connection ? Number(connection[1]) : null,
    engineCpuUs: (used.user + used.system) / Number(txMatch[1]),
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

// ---------------------------------------------------------------- throughput
async function alternate(extra: string[]): Promise<{ direct: PgbenchRun; through: PgbenchRun }> {
  const d: PgbenchRun[] = [];
  const t: PgbenchRun[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    d.push(await pgbench(direct, extra));
    t.push(await pgbench(through, extra));
  }
  const byTps = (runs: PgbenchRun[]) => [...runs].sort((a, b) => a.tps - b.tps)[Math.floor(runs.length / 2)]!;
  return { direct: byTps(d), through: byTps(t) };
}

const steady = await alternate([]);
console.log(`\npgbench -S, 8 clients, ${SECONDS} s (median of ${ROUNDS} alternating rounds)`);
console.log(`  ${"direct (TCP)".padEnd(40)} ${steady.direct.tps.toFixed(0).padStart(9)} tps   1.00x (baseline)`);
console.log(
  `  ${"through the endpoint engine".padEnd(40)} ${steady.through.tps.toFixed(0).padStart(9)} tps   ${(steady.through.tps / steady.direct.tps).toFixed(2)}x   (target ≥ 0.80)`,
);
console.log(`  engine CPU per transaction: ${steady.through.engineCpuUs.toFixed(1)} µs (what the relay costs whatever the machine's load)`);

const reconnecting = await alternate(["-C"]);
console.log(`\npgbench -S -C (libpq, a new connection per transaction), 8 clients, ${SECONDS} s`);
for (const [name, r] of [["direct (TCP, trust)", reconnecting.direct], ["through the endpoint engine (SCRAM)", reconnecting.through]] as const) {
  const ratio = (r.connectionMs ?? NaN) / (reconnecting.direct.connectionMs ?? NaN);
  console.log(`  ${name.padEnd(40)} ${r.tps.toFixed(0).padStart(9)} tps   average connection time ${r.connectionMs?.toFixed(2)} ms   ${ratio.toFixed(2)}x`);
}
console.log(`  engine CPU per connection: ${reconnecting.through.engineCpuUs.toFixed(0)} µs (set-up, one query, teardown)`);

// ------------------------------------------------------------ set-up time
type Options = postgres.Options<{}>;
async function setupTimes(options: Options): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < SETUP_CONNECTIONS; i++) {
    const sql = postgres({ max: 1, fetch_types: false, onnotice: () => {}, ...options });
    const start = performance.now();
    await sql`SELECT 1`;
    times.push(performance.now() - start);
    await sql.end();
  }
  return times;
}
const socketPath = process.env.ANONBRANCH_TEST_PG_SOCKET;
const cases: Array<[string, Options]> = [
  ["direct (TCP, trust)", { host: "127.0.0.1", port: serverPort, user: "postgres", database: db.name }],
  ["through the endpoint engine (SCRAM)", { host: "127.0.0.1", port: enginePort, user: "alice", password, database: "branchdb" }],
];
if (socketPath) {
  cases.push([
    "direct (Unix socket, SCRAM)",
    { host: path.dirname(socketPath), path: socketPath, user: benchRole, password: benchPassword, database: db.name },
  ]);
} else {
  console.log("\n(ANONBRANCH_TEST_PG_SOCKET unset: the direct Unix-socket SCRAM reference is skipped)");
}
const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, options] of cases) samples.get(name)!.push(...(await setupTimes(options)));
}
const base = median(samples.get(cases[0]![0])!);
console.log(`\nconnection set-up: connect + authenticate + SELECT 1 (postgres.js, ${SETUP_CONNECTIONS * ROUNDS} connections each)`);
for (const [name] of cases) {
  const xs = samples.get(name)!;
  const p50 = median(xs);
  const p95 = percentile(xs, 0.95);
  const target = name.startsWith("through") ? "   (target p50 ≤ 2.00x)" : "";
  console.log(`  ${name.padEnd(40)} p50 ${p50.toFixed(2).padStart(6)} ms  p95 ${p95.toFixed(2).padStart(6)} ms   p50 ${(p50 / base).toFixed(2)}x${target}`);
}

await engine.close();
await db.sql.unsafe(`DROP ROLE IF EXISTS "${benchRole}"`);
await db.drop();
