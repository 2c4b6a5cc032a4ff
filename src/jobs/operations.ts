// Reading an operation before a job acts on it: a job whose operation is
// already finished (a retry after success, or a duplicate) does nothing.
import { eq } from "drizzle-orm";
import type { Services } from "../control/context.ts";
import { operations } from "../db/schema.ts";

export async function operationPending(svc: Services, operationId: string): Promise<boolean> {
  const [op] = await svc.db.select({ status: operations.status }).from(operations).where(eq(operations.id, operationId));
  return op !== undefined && (op.status === "scheduling" || op.status === "running");
}
