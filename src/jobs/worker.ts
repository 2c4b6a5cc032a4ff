// The worker: pg-boss handlers for the branch queues.
import type PgBoss from "pg-boss";
import type { Services } from "../control/context.ts";
import { runAnonymization } from "./anonymize-branch.ts";
import { runCreateBranch } from "./create-branch.ts";
import { runDeleteBranch } from "./delete-branch.ts";
import { runMaintenance, scheduleMaintenance } from "./maintenance.ts";
import { AnonymizeBranchJob, CreateBranchJob, DeleteBranchJob, ResetBranchJob, ensureQueues, queues } from "./queues.ts";
import { runResetBranch } from "./reset-branch.ts";

export interface WorkerOptions {
  concurrency: number;
  pollingIntervalSeconds?: number;
}

export async function startWorker(svc: Services, options: WorkerOptions): Promise<void> {
  const { boss } = svc;
  await ensureQueues(boss);
  const work = async <T>(queue: string, parse: (data: unknown) => T, handler: (svc: Services, job: T) => Promise<void>) => {
    for (let i = 0; i < options.concurrency; i++) {
      await boss.work(queue, { batchSize: 1, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1 }, async ([job]) => {
        if (!job) return;
        svc.log.info("job started", { queue, job_id: job.id });
        await handler(svc, parse(job.data));
        svc.log.info("job finished", { queue, job_id: job.id });
      });
    }
  };
  await work(queues.createBranch, (d) => CreateBranchJob.parse(d), runCreateBranch);
  await work(queues.anonymizeBranch, (d) => AnonymizeBranchJob.parse(d), runAnonymization);
  await work(queues.deleteBranch, (d) => DeleteBranchJob.parse(d), runDeleteBranch);
  await work(queues.resetBranch, (d) => ResetBranchJob.parse(d), runResetBranch);
  await boss.work(queues.maintenance, { batchSize: 1, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1 }, () =>
    runMaintenance(svc),
  );
  // A tick now: resumes what a previous worker left half-done, and (re)starts the chain.
  await scheduleMaintenance(svc);
}

export type { PgBoss };
