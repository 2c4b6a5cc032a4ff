// State changes of branches, runs and operations made by the worker.
import { eq } from "drizzle-orm";
import { anonymizationRuns, branches, operations, type AnonymizationState } from "../db/schema.ts";
import type { Services } from "../control/context.ts";

export async function setStatus(svc: Services, branchId: string, statusMessage: string): Promise<void> {
  await svc.db.update(branches).set({ statusMessage, updatedAt: new Date() }).where(eq(branches.id, branchId));
}

export async function setAnonState(
  svc: Services,
  branchId: string,
  anonState: AnonymizationState,
  statusMessage: string,
  extra: Partial<typeof branches.$inferInsert> = {},
): Promise<void> {
  const failed = anonState === "error" || anonState === "initialization_error";
  await svc.db
    .update(branches)
    .set({ anonState, statusMessage, failedAt: failed ? new Date() : null, updatedAt: new Date(), ...extra })
    .where(eq(branches.id, branchId));
}

export async function setOperation(
  svc: Services,
  operationId: string,
  status: "running" | "finished" | "failed",
  error?: string,
): Promise<void> {
  const now = new Date();
  await svc.db
    .update(operations)
    .set({
      status,
      updatedAt: now,
      ...(status === "running" ? {} : { finishedAt: now }),
      ...(error ? { error } : {}),
    })
    .where(eq(operations.id, operationId));
}

export async function setRun(svc: Services, runId: string, values: Partial<typeof anonymizationRuns.$inferInsert>): Promise<void> {
  await svc.db.update(anonymizationRuns).set(values).where(eq(anonymizationRuns.id, runId));
}
