// Limits that protect the server holding the parent, checked when a branch is
// asked for, before anything is created (the caller's transaction rolls back):
//  - the project's quotas, in Neon's shape: settings.quota.logical_size_bytes
//    (total size of the branch copies it made; the parent it does not own is
//    not counted) and settings.quota.max_branches;
//  - the server's storage budget an admin set (PATCH /servers/{server_id}),
//    shared by every project on that host:port;
//  - the free space of the server's filesystem, where this process can see it
//    (a local server), keeping ANONBRANCH_MIN_FREE_PERCENT of it free.
// A copy is accounted at the parent's size when it is asked for.
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import { branches, dataPlaneServers, projects, type ProjectSettings } from "../db/schema.ts";
import type { CloneRoom } from "../dataplane/server-health.ts";
import { DomainError } from "../lib/errors.ts";
import type { Services } from "./context.ts";

const LIMITS_LOCK = 0x6c696d74; // "limt"

const gb = (bytes: number) => `${bytes} bytes (${(bytes / 1024 ** 3).toFixed(2)} GiB)`;
const refused = (code: string, message: string) => new DomainError("invalid", code, message);

type Project = { id: string; host: string; port: number; settings: ProjectSettings };

/**
 * Refuses a copy of `room.parentBytes` that would break a limit. Serialised
 * per server (an advisory lock held to the end of `tx`), so N simultaneous
 * requests cannot each see room for one more copy.
 */
export async function assertCloneFits(svc: Services, tx: Tx, project: Project, room: CloneRoom): Promise<void> {
  const server = `${project.host}:${project.port}`;
  await tx.execute(sql`SELECT pg_catalog.pg_advisory_xact_lock(${LIMITS_LOCK}, pg_catalog.hashtext(${server}))`);
  const size = room.parentBytes;

  const [mine] = await tx
    .select({ n: sql<number>`count(*)::int`, bytes: sql<number>`coalesce(sum(${branches.logicalSizeBytes}), 0)::bigint` })
    .from(branches)
    .where(and(eq(branches.projectId, project.id), isNull(branches.deletedAt), eq(branches.isDefault, false)));
  const quota = project.settings.quota ?? {};
  if (quota.max_branches != null && mine!.n >= quota.max_branches) {
    throw refused(
      "BRANCH_LIMIT_EXCEEDED",
      `project ${project.id} has ${mine!.n} branches; its limit settings.quota.max_branches is ${quota.max_branches}: delete a branch or raise the limit`,
    );
  }
  const used = Number(mine!.bytes);
  if (quota.logical_size_bytes != null && used + size > quota.logical_size_bytes) {
    throw refused(
      "QUOTA_EXCEEDED",
      `project ${project.id}: settings.quota.logical_size_bytes is ${gb(quota.logical_size_bytes)}; its branch copies use ${gb(used)}; this branch needs ${gb(size)} (the size of its parent)`,
    );
  }

  const [budget] = await tx
    .select({ bytes: dataPlaneServers.storageBudgetBytes })
    .from(dataPlaneServers)
    .where(and(eq(dataPlaneServers.host, project.host), eq(dataPlaneServers.port, project.port)));
  if (budget?.bytes != null) {
    const [all] = await tx
      .select({ bytes: sql<number>`coalesce(sum(${branches.logicalSizeBytes}), 0)::bigint` })
      .from(branches)
      .innerJoin(projects, eq(projects.id, branches.projectId))
      .where(and(eq(projects.host, project.host), eq(projects.port, project.port), isNull(branches.deletedAt), eq(branches.isDefault, false)));
    const usedOnServer = Number(all!.bytes);
    if (usedOnServer + size > budget.bytes) {
      throw refused(
        "STORAGE_BUDGET_EXCEEDED",
        `data-plane server ${server}: its storage budget is ${gb(budget.bytes)}; branch copies on it use ${gb(usedOnServer)}; this branch needs ${gb(size)} (the size of its parent)`,
      );
    }
  }

  if (room.freeBytes !== null && room.totalBytes !== null) {
    const keep = Math.ceil((room.totalBytes * svc.config.ANONBRANCH_MIN_FREE_PERCENT) / 100);
    // Copies accepted but not cloned yet will take their room too: a burst must not each see the same free space.
    const [pending] = await tx
      .select({ bytes: sql<number>`coalesce(sum(${branches.logicalSizeBytes}), 0)::bigint` })
      .from(branches)
      .innerJoin(projects, eq(projects.id, branches.projectId))
      .where(and(eq(projects.host, project.host), eq(projects.port, project.port), isNull(branches.deletedAt), eq(branches.anonState, "created")));
    const free = room.freeBytes - Number(pending!.bytes);
    if (free - size < keep) {
      throw refused(
        "INSUFFICIENT_STORAGE",
        `data-plane server ${server} has ${gb(room.freeBytes)} free of ${gb(room.totalBytes)}${free < room.freeBytes ? `, ${gb(room.freeBytes - free)} of it promised to branches not cloned yet` : ""}; this branch needs ${gb(size)} (the size of its parent) and ${svc.config.ANONBRANCH_MIN_FREE_PERCENT}% of the disk (${gb(keep)}) must stay free`,
      );
    }
  }
}
