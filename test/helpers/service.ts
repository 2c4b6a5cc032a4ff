// The service as `npm start` runs it (src/main.ts all: a supervisor and its
// parts as child processes), on a given PostgreSQL, spoken to over real HTTP.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { freePortRange } from "./harness.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

export interface Service {
  base: string;
  adminToken: string;
  process: ChildProcess;
  /** Everything the supervisor and its parts wrote on stderr. */
  output: string[];
  request(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; headers: Headers; body: any }>;
  /** The supervisor's and parts' own words about a part that died, for failure messages. */
  partExits(): string[];
  /** SIGTERM; resolves with the exit code once every part has stopped. */
  stop(): Promise<number | null>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

export async function startService(serverUrl: string, env: Record<string, string> = {}): Promise<Service> {
  const port = await freePort();
  // The endpoint proxy part gets ports of its own: test files run side by side.
  const endpoints = await freePortRange(100);
  const endpointShared = await freePort();
  const metadata = new URL(serverUrl);
  metadata.pathname = `/meta_${randomBytes(4).toString("hex")}`;
  const adminToken = randomBytes(24).toString("base64url");
  const output: string[] = [];
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "all"], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: metadata.toString(),
      PORT: String(port),
      HOST: "127.0.0.1",
      ANONBRANCH_ADMIN_TOKEN: adminToken,
      ANONBRANCH_SECRET_KEY: randomBytes(32).toString("hex"),
      ANONBRANCH_JWT_SECRET: randomBytes(32).toString("hex"),
      ANONBRANCH_STATE_DIR: mkdtempSync(join(tmpdir(), "anonbranch-state-")),
      LOG_LEVEL: "warn",
      ANONBRANCH_ENDPOINT_PORTS: `${endpoints.first}-${endpoints.last}`,
      ANONBRANCH_ENDPOINT_PORT: String(endpointShared),
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  const service: Service = {
    base,
    adminToken,
    process: child,
    output,
    async request(method, path, body, token = adminToken) {
      const res = await fetch(`${base}/api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: res.status, headers: res.headers, body: parsed };
    },
    partExits() {
      return output.join("").split("\n").filter((l) => /exited; restarting|, exiting"/.test(l));
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      return code as number | null;
    },
  };
  // Ready when the API answers /readyz with 200 (metadata migrated and reachable).
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited at start:\n${output.join("")}`);
    const ok = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the service did not become ready:\n${output.join("")}`);
    await delay(200);
  }
  return service;
}
