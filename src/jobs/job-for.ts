// The pg-boss job that carries an operation forward, rebuilt from its rows:
// used to resume an interrupted operation or to retry it after an outage.
import { eq } from "drizzle-orm";
import type { Services } from "../control/context.ts";
import type { Db, Tx } from "../db/client.ts";
import { anonymizationRuns, operations } from "../db/schema.ts";
import { queues } from "./queues.ts";

type Operation = typeof operations.$inferSelect;

export async function jobFor(svc: Services, op: Operation, db: Db | Tx = svc.db): Promise<{ queue: string; data: object } | null> {
  const [run] = await db.select({ id: anonymizationRuns.id }).from(anonymizationRuns).where(eq(anonymizationRuns.operationId, op.id));
  const base = { branchId: op.branchId!, operationId: op.id };
  switch (op.action) {
    case "create_branch":
      return { queue: queues.createBranch, data: { ...base, runId: run?.id ?? null } };
    case "anonymize_branch":
      return run ? { queue: queues.anonymizeBranch, data: { ...base, runId: run.id } } : null;
    case "reset_to_parent":
      return run ? { queue: queues.resetBranch, data: { ...base, runId: run.id } } : null;
    case "delete_timeline":
      return { queue: queues.deleteBranch, data: base };
    default:
      return null;
  }
}
