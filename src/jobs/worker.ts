// The worker: pg-boss handlers for the branch queues.
import type PgBoss from "pg-boss";
import type { Services } from "../control/context.ts";
import { runAnonymization } from "./anonymize-branch.ts";
import { runCreateBranch } from "./create-branch.ts";
import { runDeleteBranch } from "./delete-branch.ts";
import { JOBS_CHANNEL } from "./enqueue.ts";
import { runMaintenance, scheduleMaintenance } from "./maintenance.ts";
import { AnonymizeBranchJob, CreateBranchJob, DeleteBranchJob, ResetBranchJob, ensureQueues, queues } from "./queues.ts";
import { runResetBranch } from "./reset-branch.ts";

export interface WorkerOptions {
  concurrency: number;
  pollingIntervalSeconds?: number;
}

/** How often the worker re-arms the maintenance chain, which an outage can break. */
const MAINTENANCE_KEEPALIVE_MS = 30_000;

export interface RunningWorker {
  /** Stops the timers of this worker; pg-boss itself is stopped by the caller. */
  stop(): void;
}

export async function startWorker(svc: Services, options: WorkerOptions): Promise<RunningWorker> {
  const { boss } = svc;
  await ensureQueues(boss);
  const workerIds = new Map<string, string[]>();
  const work = async <T>(queue: string, parse: (data: unknown) => T, handler: (svc: Services, job: T) => Promise<void>) => {
    for (let i = 0; i < options.concurrency; i++) {
      const id = await boss.work(queue, { batchSize: 1, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1 }, async ([job]) => {
        if (!job) return;
        svc.log.info("job started", { queue, job_id: job.id });
        await handler(svc, parse(job.data));
        svc.log.info("job finished", { queue, job_id: job.id });
      });
      workerIds.set(queue, [...(workerIds.get(queue) ?? []), id]);
    }
  };
  await work(queues.createBranch, (d) => CreateBranchJob.parse(d), runCreateBranch);
  await work(queues.anonymizeBranch, (d) => AnonymizeBranchJob.parse(d), runAnonymization);
  await work(queues.deleteBranch, (d) => DeleteBranchJob.parse(d), runDeleteBranch);
  await work(queues.resetBranch, (d) => ResetBranchJob.parse(d), runResetBranch);
  await boss.work(queues.maintenance, { batchSize: 1, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1 }, () =>
    runMaintenance(svc),
  );
  // Enqueuers NOTIFY at commit (src/jobs/enqueue.ts): fetch at once instead of at the next poll,
  // which stays the fallback (a notification is lost while the listening connection reconnects).
  await svc.db.$client.listen(JOBS_CHANNEL, (queue) => {
    for (const id of workerIds.get(queue) ?? []) boss.notifyWorker(id);
  });
  // A tick now: resumes what a previous worker left half-done, and (re)starts the chain.
  await scheduleMaintenance(svc);
  // Each tick schedules the next; a tick that fails while the metadata database
  // is down breaks the chain. Re-arming it is harmless: the queue keeps one.
  const keepalive = setInterval(() => {
    scheduleMaintenance(svc).catch((error) => svc.log.warn("cannot schedule maintenance", { error }));
  }, MAINTENANCE_KEEPALIVE_MS);
  keepalive.unref();
  return { stop: () => clearInterval(keepalive) };
}

export type { PgBoss };
