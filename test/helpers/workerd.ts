// The Workers deployment, locally: the bundle `wrangler deploy --dry-run` makes
// (exactly what would be uploaded), run by workerd through Miniflare, and the
// Node worker as a separate process — the way a Workers deployment runs.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { Miniflare } from "miniflare";

const root = new URL("../..", import.meta.url).pathname;

/** Wrangler and Miniflare may not phone home: no telemetry, no update check. */
export const offlineWranglerEnv = { WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", CI: "true" };

export interface WorkersBundle {
  dir: string;
  files: string[];
  output: string;
  remove(): void;
}

/** Runs `wrangler deploy --dry-run --outdir <tmp>` (what `npm run build:workers` runs). */
export async function buildWorkersBundle(): Promise<WorkersBundle> {
  const dir = mkdtempSync(join(tmpdir(), "anonbranch-workers-"));
  const child = spawn(join(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", dir], {
    cwd: root,
    env: { ...process.env, ...offlineWranglerEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const [code] = await once(child, "exit");
  if (code !== 0) throw new Error(`wrangler deploy --dry-run exited ${code}:\n${output}`);
  return { dir, files: readdirSync(dir), output, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** compatibility_date and compatibility_flags as wrangler.toml sets them. */
function compatibility(): { date: string; flags: string[] } {
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1];
  if (!date || flags === undefined) throw new Error("wrangler.toml has no compatibility_date/compatibility_flags");
  return { date, flags: [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1]!) };
}

/** The bundle under workerd, with the given vars and secrets as bindings. */
export function startWorkerd(bundle: WorkersBundle, bindings: Record<string, string>): Miniflare {
  const { date, flags } = compatibility();
  const main = bundle.files.find((f) => f.endsWith(".js"));
  if (!main) throw new Error(`no script in the bundle: ${bundle.files.join(", ")}`);
  return new Miniflare({
    modulesRoot: bundle.dir,
    modules: [
      { type: "ESModule", path: join(bundle.dir, main) },
      // The masking-rule parser, uploaded as a compiled WebAssembly module.
      ...bundle.files.filter((f) => f.endsWith(".wasm")).map((f) => ({ type: "CompiledWasm" as const, path: join(bundle.dir, f) })),
    ],
    compatibilityDate: date,
    compatibilityFlags: flags,
    bindings,
    cf: false, // do not download request.cf data
  });
}

export interface NodeWorker {
  process: ChildProcess;
  logs: string[];
  /** Resolves once the worker logs that it works its queues. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * `node --import tsx src/main.ts <mode>` with the given environment (`worker`
 * or `migrate`). LOG_LEVEL is info: readiness is read from the log.
 */
export function startNodeProcess(mode: "worker" | "migrate", env: Record<string, string>, readyWithinMs = 60_000): NodeWorker {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", mode], {
    cwd: root,
    env: { ...process.env, ...env, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  const exited = once(child, "exit");
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`src/main.ts ${mode} not ready:\n${logs.join("\n")}`)), readyWithinMs);
    timer.unref();
    let pending = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        logs.push(line);
        if (line.includes('"msg":"worker started"')) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.stdout!.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
    void exited.then(([code]) => {
      clearTimeout(timer);
      if (mode === "migrate" && code === 0) resolve();
      else reject(new Error(`src/main.ts ${mode} exited ${code}:\n${logs.join("\n")}`));
    });
  });
  ready.catch(() => {}); // observed by the caller
  return {
    process: child,
    logs,
    ready,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}
