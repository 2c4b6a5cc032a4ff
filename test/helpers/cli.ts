// The CLI as users run it: a subprocess (bin/anonbranch.mjs) talking to the
// harness app served over real HTTP on a free port.
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { serve, type ServerType } from "@hono/node-server";
import type { Harness } from "./harness.ts";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CLI = fileURLToPath(new URL("../../bin/anonbranch.mjs", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ServedApp {
  url: string;
  close(): Promise<void>;
}

export async function serveHarness(h: Harness): Promise<ServedApp> {
  const server: ServerType = serve({ fetch: h.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs a command asynchronously (the app answering it lives in this process), collecting its output. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A clean environment: PATH and HOME only, so nothing from the test run leaks into the CLI. */
export function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
}

export function cliRunner(api: ServedApp, token: string) {
  return (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, [CLI, ...args], baseEnv({ ANONBRANCH_API_URL: api.url, ANONBRANCH_TOKEN: token, ANONBRANCH_POLL_INTERVAL_MS: "200", ...extra }));
}
