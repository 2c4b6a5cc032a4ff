// Node entry point: `tsx src/main.ts [all|api|worker|proxy|migrate]`.
//   all (default): migrate, then run every part as a supervised child process;
//   api | worker | proxy: run that one part in this process (what the
//     supervisor starts, and what systemd or Kubernetes runs in production);
//   migrate: migrate the metadata database and exit.
import { parseConfig, type Config } from "./config.ts";
import { migrateMetadata } from "./db/migrate.ts";
import { createLogger, type Logger } from "./lib/log.ts";
import { installJobQueues } from "./jobs/queues.ts";
import { runApi } from "./parts/api.ts";
import { runProxy } from "./parts/proxy.ts";
import { resolveSecrets, secretsEnv, type Secrets } from "./parts/boot.ts";
import { runInProcess, superviseParts, type RunningPart } from "./parts/supervisor.ts";
import { runWorker } from "./parts/worker.ts";

type PartName = "api" | "worker" | "proxy";
type Mode = "all" | "migrate" | PartName;

/** The parts `all` supervises, in start order. Adding a part is one line here. */
const parts: Partial<Record<PartName, (config: Config, secrets: Secrets, log: Logger) => Promise<RunningPart>>> = {
  api: runApi,
  worker: runWorker,
  proxy: runProxy,
};

async function main(mode: Mode): Promise<void> {
  const config = parseConfig(process.env);
  const log = createLogger(config.LOG_LEVEL);
  if (mode === "migrate" || mode === "all") {
    log.info("migrating metadata database");
    await migrateMetadata(config.DATABASE_URL);
    // pg-boss drops a job sent to a queue that does not exist yet: install them with the schema.
    await installJobQueues(config.DATABASE_URL);
    if (mode === "migrate") return;
  }
  if (mode === "all") {
    const secrets = resolveSecrets(config, log, "api" in parts);
    await superviseParts({
      parts: Object.keys(parts),
      script: process.argv[1]!,
      env: { ...process.env, ...secretsEnv(secrets) },
      log,
    });
    log.info("all parts stopped");
    process.exit(0);
  }
  const run = parts[mode];
  if (!run) throw new Error(`the ${mode} part is not part of this build yet`);
  // Supervised parts get their secrets from the supervisor; a part run on its own resolves them.
  const secrets = resolveSecrets(config, log, mode === "api");
  await runInProcess(mode, log, () => run(config, secrets, log));
}

const modes: readonly Mode[] = ["all", "api", "worker", "proxy", "migrate"];
const mode = (process.argv[2] ?? "all") as Mode;
if (!modes.includes(mode)) {
  process.stderr.write(`usage: tsx src/main.ts [${modes.join("|")}]\n`);
  process.exit(2);
}
main(mode).catch((error) => {
  createLogger("info").error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
