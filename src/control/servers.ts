// Data-plane servers as an admin sees them: every host:port some project
// registered, its storage budget for branch copies, and what they use of it.
import { and, eq, isNull, sql } from "drizzle-orm";
import { branches, dataPlaneServers, projects } from "../db/schema.ts";
import { invalid, notFound } from "../lib/errors.ts";
import { requireAdmin } from "./access.ts";
import type { Principal, Services } from "./context.ts";
import { recordAudit } from "./audit.ts";

const serverId = (host: string, port: number) => `${host}:${port}`;

export async function listServers(svc: Services, principal: Principal) {
  requireAdmin(principal);
  const rows = await svc.db
    .select({
      host: projects.host,
      port: projects.port,
      projectIds: sql<string[]>`array_agg(DISTINCT ${projects.id})`,
      usedBytes: sql<number>`coalesce(sum(${branches.logicalSizeBytes}) FILTER (WHERE ${branches.deletedAt} IS NULL AND NOT ${branches.isDefault}), 0)::bigint`,
      budget: sql<number | null>`max(${dataPlaneServers.storageBudgetBytes})`,
    })
    .from(projects)
    .leftJoin(branches, eq(branches.projectId, projects.id))
    .leftJoin(dataPlaneServers, and(eq(dataPlaneServers.host, projects.host), eq(dataPlaneServers.port, projects.port)))
    .where(isNull(projects.deletedAt))
    .groupBy(projects.host, projects.port)
    .orderBy(projects.host, projects.port);
  return {
    servers: rows.map((r) => ({
      id: serverId(r.host, r.port),
      host: r.host,
      port: r.port,
      project_ids: r.projectIds,
      storage_budget_bytes: r.budget === null ? null : Number(r.budget),
      used_bytes: Number(r.usedBytes),
    })),
  };
}

/** Sets (or, with null, removes) the storage budget of a registered server. */
export async function setServerBudget(svc: Services, principal: Principal, id: string, budget: number | null) {
  requireAdmin(principal);
  const match = /^(.+):(\d{1,5})$/.exec(id);
  if (!match) throw invalid(`server_id: expected host:port, got "${id}"`);
  const [host, port] = [match[1]!, Number(match[2])];
  const [known] = await svc.db.select({ id: projects.id }).from(projects).where(and(eq(projects.host, host), eq(projects.port, port), isNull(projects.deletedAt))).limit(1);
  if (!known) throw notFound(`data-plane server ${id} (no project uses it)`);
  await svc.db.transaction(async (tx) => {
    await tx
      .insert(dataPlaneServers)
      .values({ host, port, storageBudgetBytes: budget })
      .onConflictDoUpdate({ target: [dataPlaneServers.host, dataPlaneServers.port], set: { storageBudgetBytes: budget, updatedAt: new Date() } });
    await recordAudit(tx, principal, { action: "server.update", after: { server: id, storage_budget_bytes: budget } });
  });
  const { servers } = await listServers(svc, principal);
  return { server: servers.find((s) => s.id === id)! };
}
