// The worker part: pg-boss handlers for the branch queues. SIGTERM lets jobs
// in flight finish (bounded by pg-boss's timeout); a job cut short is resumed
// by the maintenance job of whichever worker runs next.
import type { Config } from "../config.ts";
import { armCrashPoint } from "../jobs/crash-points.ts";
import { startWorker } from "../jobs/worker.ts";
import type { Logger } from "../lib/log.ts";
import { bootServices, type Secrets } from "./boot.ts";
import type { RunningPart } from "./supervisor.ts";

export async function runWorker(config: Config, secrets: Secrets, log: Logger): Promise<RunningPart> {
  const { services, metadata } = await bootServices(config, secrets, log, { work: true });
  armCrashPoint(config.ANONBRANCH_CRASH_AT);
  const worker = await startWorker(services, { concurrency: config.ANONBRANCH_WORKER_CONCURRENCY });
  log.info("worker started", { concurrency: config.ANONBRANCH_WORKER_CONCURRENCY });
  return {
    async stop() {
      worker.stop();
      await services.boss.stop({ graceful: true, wait: true, timeout: 30_000 }).catch(() => {});
      await metadata.sql.end({ timeout: 5 });
    },
  };
}
