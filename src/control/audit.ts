// The audit log: one row per change, written in the change's own transaction
// so a rolled-back change leaves no event and a committed one always has one.
import { and, desc, eq, lt } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import { auditEvents } from "../db/schema.ts";
import { loadProject, requireAdmin } from "./access.ts";
import type { Principal, Services } from "./context.ts";

export interface AuditEntry {
  action: string;
  projectId?: string | null;
  branchId?: string | null;
  before?: unknown;
  after?: unknown;
}

export async function recordAudit(tx: Tx | Services["db"], principal: Principal, entry: AuditEntry): Promise<void> {
  await tx.insert(auditEvents).values({
    projectId: entry.projectId ?? null,
    branchId: entry.branchId ?? null,
    actorId: principal.id,
    actorName: principal.name,
    actorRole: principal.role,
    action: entry.action,
    before: entry.before ?? null,
    after: entry.after ?? null,
    requestId: principal.requestId ?? null,
  });
}

export async function listAuditLog(
  svc: Services,
  principal: Principal,
  projectId: string,
  query: { limit: number; cursor?: number },
) {
  requireAdmin(principal);
  await loadProject(svc.db, principal, projectId);
  const rows = await svc.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.projectId, projectId), query.cursor ? lt(auditEvents.id, query.cursor) : undefined))
    .orderBy(desc(auditEvents.id))
    .limit(query.limit);
  const last = rows.at(-1);
  return {
    events: rows.map((e) => ({
      id: e.id,
      time: e.createdAt.toISOString(),
      actor: { id: e.actorId, name: e.actorName, role: e.actorRole },
      action: e.action,
      project_id: e.projectId ?? undefined,
      branch_id: e.branchId ?? undefined,
      before: e.before ?? undefined,
      after: e.after ?? undefined,
      request_id: e.requestId ?? undefined,
    })),
    pagination: last && rows.length === query.limit ? { cursor: String(last.id) } : undefined,
  };
}
