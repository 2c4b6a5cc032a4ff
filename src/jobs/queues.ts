// pg-boss queue names and payloads. Payloads carry ids only: the worker reads
// everything else (and every secret) from the metadata database.
import PgBoss from "pg-boss";
import { z } from "zod";

export const queues = {
  createBranch: "branch-create",
  anonymizeBranch: "branch-anonymize",
  deleteBranch: "branch-delete",
  resetBranch: "branch-reset",
  maintenance: "maintenance",
} as const;

export const CreateBranchJob = z.object({
  branchId: z.string(),
  operationId: z.string().uuid(),
  /** Chain the first anonymization run after initialisation. */
  runId: z.string().uuid().nullable(),
});
export type CreateBranchJob = z.infer<typeof CreateBranchJob>;

export const AnonymizeBranchJob = z.object({
  branchId: z.string(),
  operationId: z.string().uuid(),
  runId: z.string().uuid(),
});
export type AnonymizeBranchJob = z.infer<typeof AnonymizeBranchJob>;

export const ResetBranchJob = AnonymizeBranchJob;
export type ResetBranchJob = AnonymizeBranchJob;

export const DeleteBranchJob = z.object({
  branchId: z.string(),
  operationId: z.string().uuid(),
});
export type DeleteBranchJob = z.infer<typeof DeleteBranchJob>;

/** Retries with backoff for transient failures (a data plane that is down). */
export const jobOptions: PgBoss.SendOptions = { retryLimit: 5, retryDelay: 2, retryBackoff: true, expireInMinutes: 60 };

export async function ensureQueues(boss: PgBoss): Promise<void> {
  for (const name of Object.values(queues)) {
    if (await boss.getQueue(name)) continue;
    // `short`: at most one queued job per singleton key — one maintenance tick, however many workers.
    await boss.createQueue(name, { name, policy: name === queues.maintenance ? "short" : "standard" });
  }
}

/**
 * pg-boss's schema and our queues, without working any job: `migrate` runs it so
 * an API that only enqueues (the Workers entry) finds them before a worker has
 * ever started. pg-boss drops a job sent to a queue that does not exist.
 */
export async function installJobQueues(url: string): Promise<void> {
  const boss = new PgBoss({ connectionString: url, schema: "pgboss", max: 1, supervise: false, schedule: false });
  await boss.start();
  try {
    await ensureQueues(boss);
  } finally {
    await boss.stop({ graceful: false, wait: true, timeout: 5000 });
  }
}
