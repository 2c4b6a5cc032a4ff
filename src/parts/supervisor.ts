// `npm start` runs each part of the service (API, worker, endpoint proxy…) as
// a child process and keeps them running: a part that exits is restarted with
// backoff and the reason (exit code or signal, and its last lines of output)
// is logged. SIGTERM or SIGINT is passed to every part, which drains and
// stops; the supervisor exits when they all have. The supervisor itself holds
// no connection, so nothing a database does can take it down.
import { type ChildProcess, spawn } from "node:child_process";
import { redact, type Logger } from "../lib/log.ts";

/** A part running in this process; stop() drains it and closes what it holds. */
export interface RunningPart {
  stop(): Promise<void>;
}

export interface SupervisorOptions {
  /** The parts to run, each started as `<node> <execArgv> <script> <part>`. */
  parts: readonly string[];
  script: string;
  env: Record<string, string | undefined>;
  log: Logger;
  /** First restart delay; doubles on each quick exit up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A part that ran this long is considered healthy again: backoff resets. */
  stableAfterMs?: number;
  /** After SIGTERM, parts still running after this long get SIGKILL. */
  stopTimeoutMs?: number;
}

interface Supervised {
  name: string;
  child: ChildProcess | null;
  startedAt: number;
  delay: number;
  restarts: number;
  timer: NodeJS.Timeout | null;
  tail: string[];
}

const TAIL_LINES = 8;

export function superviseParts(options: SupervisorOptions): Promise<void> {
  const { log } = options;
  const backoff = options.backoffMs ?? 1_000;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const stableAfter = options.stableAfterMs ?? 60_000;
  const stopTimeout = options.stopTimeoutMs ?? 45_000;
  const parts: Supervised[] = options.parts.map((name) => ({ name, child: null, startedAt: 0, delay: backoff, restarts: 0, timer: null, tail: [] }));
  let stopping = false;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));

  const start = (part: Supervised) => {
    part.timer = null;
    part.tail = [];
    part.startedAt = Date.now();
    const child = spawn(process.execPath, [...process.execArgv, options.script, part.name], {
      env: { ...options.env, ANONBRANCH_SUPERVISED: "1" },
      stdio: ["ignore", "inherit", "pipe"],
    });
    part.child = child;
    let partial = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      part.tail.push(...lines.filter((l) => l.trim()));
      if (part.tail.length > TAIL_LINES) part.tail.splice(0, part.tail.length - TAIL_LINES);
    });
    child.once("error", (error) => log.error(`cannot start part ${part.name}`, { part: part.name, error }));
    child.once("exit", (code, signal) => {
      part.child = null;
      if (stopping) {
        log.info(`part ${part.name} stopped`, { part: part.name, code, signal });
        if (parts.every((p) => p.child === null)) done();
        return;
      }
      const ranMs = Date.now() - part.startedAt;
      if (ranMs >= stableAfter) part.delay = backoff;
      part.restarts += 1;
      log.error(`part ${part.name} exited; restarting in ${part.delay} ms`, {
        part: part.name,
        code,
        signal,
        ran_ms: ranMs,
        restarts: part.restarts,
        // Why it died, as the part itself last said it (a stack trace, a log line).
        reason: redact(part.tail.join("\n")).slice(-2_000),
      });
      part.timer = setTimeout(() => start(part), part.delay);
      part.delay = Math.min(part.delay * 2, maxBackoff);
    });
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal: stop waiting for a graceful drain.
      for (const p of parts) p.child?.kill("SIGKILL");
      return;
    }
    stopping = true;
    log.info(`${signal}: stopping ${parts.map((p) => p.name).join(", ")}`);
    for (const p of parts) {
      if (p.timer) clearTimeout(p.timer);
      p.timer = null;
      p.child?.kill("SIGTERM");
    }
    if (parts.every((p) => p.child === null)) done();
    setTimeout(() => {
      for (const p of parts) {
        if (p.child) log.warn(`part ${p.name} did not stop in ${stopTimeout} ms: killing it`, { part: p.name });
        p.child?.kill("SIGKILL");
      }
    }, stopTimeout).unref();
  };

  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  for (const p of parts) start(p);
  log.info("supervising parts", { parts: parts.map((p) => p.name) });
  return finished;
}

/**
 * Runs one part in this process until SIGTERM/SIGINT, then stops it and exits.
 * A part that cannot start (its database is down) exits non-zero; the
 * supervisor, or systemd/Kubernetes for a part run on its own, restarts it.
 */
export async function runInProcess(name: string, log: Logger, run: () => Promise<RunningPart>): Promise<void> {
  // Still fatal (state may be corrupt), but said as one log line with the stack,
  // which the supervisor then quotes as the reason for the restart.
  process.on("uncaughtException", (error, origin) => {
    log.error(`${name}: ${origin}, exiting`, { error: error.message, stack: redact(String(error.stack)).split("\n").slice(0, 12).join(" | ") });
    process.exit(1);
  });
  let stopRequested: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => (stopRequested = signal);
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  const part = await run();
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    // Ctrl-C reaches every process of the group: the supervisor's SIGTERM may follow.
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping ${name}`);
    try {
      await part.stop();
    } catch (error) {
      log.warn(`${name} did not stop cleanly`, { error });
    }
    process.exit(0);
  };
  process.removeListener("SIGTERM", onSignal);
  process.removeListener("SIGINT", onSignal);
  if (stopRequested) return stop(stopRequested);
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
