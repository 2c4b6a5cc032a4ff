// The endpoint engine in front of the test server: a login role that must
// authenticate with SCRAM over the server's Unix socket, a scratch database,
// an engine whose lookup routes client "alice" (password "alice-pw") there,
// and clients that connect through it: postgres.js, psql and a raw socket.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import postgres from "postgres";
import { openBackend, type BackendSession } from "../../src/endpoint/backend.ts";
import {
  type BackendTarget,
  createEndpointServer,
  type EndpointLimits,
  type EndpointServer,
  type Refusal,
  type Route,
  scramVerifierFor,
  type StartupInfo,
} from "../../src/endpoint/index.ts";
import { createLogger } from "../../src/lib/log.ts";
import { connect, createScratchDatabase, type ScratchDatabase, type Sql, testServerUrl } from "./pg.ts";

export const CLIENT_USER = "alice";
export const CLIENT_PASSWORD = "alice-pw";
export const clientVerifier = scramVerifierFor(CLIENT_PASSWORD);

/** The test server's Unix socket (pg_hba there: scram-sha-256) as a backend address. */
export function socketBackend(): { host: string; port: number } {
  const socket = process.env.ANONBRANCH_TEST_PG_SOCKET;
  if (!socket) throw new Error("ANONBRANCH_TEST_PG_SOCKET is not set: run the tests with `npm test`");
  return { host: path.dirname(socket), port: Number(/\.s\.PGSQL\.(\d+)$/.exec(socket)![1]) };
}

export const serverPort = (): number => Number(new URL(testServerUrl()).port);

/** A scratch database and a password login role owning it. */
export interface BackendFixture {
  db: ScratchDatabase;
  admin: Sql;
  role: string;
  password: string;
  /** A target for that role over the SCRAM-checking Unix socket. */
  target(overrides?: Partial<BackendTarget>): BackendTarget;
  drop(): Promise<void>;
}

export async function createBackendFixture(prefix: string): Promise<BackendFixture> {
  const db = await createScratchDatabase(prefix);
  const admin = connect(testServerUrl(), { max: 2 });
  const role = `${prefix}_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(18).toString("base64url");
  await admin.unsafe(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`);
  await admin.unsafe(`ALTER DATABASE "${db.name}" OWNER TO "${role}"`);
  return {
    db,
    admin,
    role,
    password,
    target: (overrides = {}) => ({
      ...socketBackend(),
      ssl: "disable",
      user: role,
      password,
      database: db.name,
      login: (authenticate) => authenticate(),
      ...overrides,
    }),
    async drop() {
      await db.drop();
      await admin.unsafe(`DROP ROLE IF EXISTS "${role}"`);
      await admin.end();
    },
  };
}

export interface LogCapture {
  lines: string[];
  text(): string;
}

export interface EngineFixture {
  engine: EndpointServer;
  port: number;
  lookups: StartupInfo[];
  logs: LogCapture;
  close(): Promise<void>;
}

export const defaultLimits: EndpointLimits = { maxClients: 50, authTimeoutMs: 10_000, idleTimeoutMs: 0, maxStartupBytes: 8192 };

/**
 * An engine on a free port. `route` decides per connection; by default user
 * "alice" is routed to `target()` and anyone else is refused with 28000.
 */
export async function startEngine(options: {
  target?: () => BackendTarget;
  route?: (info: StartupInfo) => Promise<Refusal | Route> | Refusal | Route;
  limits?: Partial<EndpointLimits>;
  tls?: { cert: string; key: string } | null;
}): Promise<EngineFixture> {
  const lookups: StartupInfo[] = [];
  const lines: string[] = [];
  const engine = createEndpointServer({
    tls: options.tls ?? null,
    limits: { ...defaultLimits, ...options.limits },
    log: createLogger("debug", (line) => lines.push(line)),
    async lookup(info) {
      lookups.push(info);
      if (options.route) return options.route(info);
      if (info.user !== CLIENT_USER) return { kind: "refuse", sqlstate: "28000", message: `no endpoint user "${info.user}"` };
      return { verifier: clientVerifier, open: async () => options.target!() };
    },
  });
  const port = await engine.listen(0, "127.0.0.1");
  return { engine, port, lookups, logs: { lines, text: () => lines.join("") }, close: () => engine.close() };
}

/** postgres.js through the engine as alice. */
export function clientSql(port: number, options: postgres.Options<{}> = {}): Sql {
  return postgres({
    host: "127.0.0.1",
    port,
    user: CLIENT_USER,
    password: CLIENT_PASSWORD,
    database: "branchdb",
    max: 1,
    fetch_types: false,
    onnotice: () => {},
    connect_timeout: 10,
    ...options,
  });
}

export interface PsqlResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs psql with a conninfo string; no PG* variables leak in from the environment. */
export function psql(
  conninfo: string,
  args: string[],
  options: { password?: string; onSpawn?: (kill: (signal: NodeJS.Signals) => void) => void } = {},
): Promise<PsqlResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PG")) env[k] = v;
  if (options.password !== undefined) env.PGPASSWORD = options.password;
  env.PGCONNECT_TIMEOUT = "10";
  return new Promise((resolve, reject) => {
    const child = spawn("psql", ["-X", "-v", "ON_ERROR_STOP=1", conninfo, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    options.onSpawn?.((signal) => child.kill(signal));
  });
}

export const conninfo = (port: number, extra = ""): string =>
  `host=127.0.0.1 port=${port} user=${CLIENT_USER} dbname=branchdb sslmode=disable ${extra}`.trim();

/** A logged-in raw connection through the engine (the engine's own client code), for byte-level tests. */
export function rawSession(port: number): Promise<BackendSession> {
  return openBackend(
    { host: "127.0.0.1", port, ssl: "disable", user: CLIENT_USER, password: CLIENT_PASSWORD, database: "branchdb", login: (f) => f() },
    { user: CLIENT_USER, database: "branchdb" },
    () => {},
  );
}

/** Everything a raw socket receives until it closes. */
export function collectUntilClose(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  socket.on("error", () => {});
  return new Promise((resolve) => socket.once("close", () => resolve(Buffer.concat(chunks))));
}

/** Backend sessions of a role, as the server sees them. */
export async function backendCount(admin: Sql, role: string): Promise<number> {
  const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = ${role}`;
  return row!.n as number;
}

/** SQLSTATE and message fields of the first ErrorResponse in a byte stream. */
export function firstError(bytes: Buffer): { code?: string; message?: string } | null {
  let at = 0;
  while (at + 5 <= bytes.length) {
    const type = bytes[at]!;
    const length = bytes.readInt32BE(at + 1);
    if (type === 0x45 /* E */) {
      const fields = new Map<string, string>();
      for (const part of bytes.toString("utf8", at + 5, at + 1 + length).split("\0")) if (part) fields.set(part[0]!, part.slice(1));
      return { code: fields.get("C"), message: fields.get("M") };
    }
    at += 1 + length;
  }
  return null;
}
