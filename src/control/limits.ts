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
import { settleInOrder } from "../lib/settle.ts";
import type { Services } from "./context.ts";

const LIMITS_LOCK = 0x6c696d74; // "limt"

const gb = (bytes: number) => `${bytes} bytes (${(bytes / 1024 ** 3).toFixed(2)} GiB)`;
const refused = (code: string, message: string) => new DomainError("invalid", code, message);

type Project = { id: string; host: string; port: number; settings: ProjectSettings };

/**
 * The lock that serialises the limit checks of one server, as an expression
 * (a caller takes it in one statement with its other locks, in a fixed order),
 * so N simultaneous requests cannot each see room for one more copy.
 */
export const cloneLimitsLock = (project: Pick<Project, "host" | "port">) =>
  sql`pg_catalog.pg_advisory_xact_lock(${LIMITS_LOCK}, pg_catalog.hashtext(${`${project.host}:${project.port}`}))`;

/**
 * Refuses a copy of `room.parentBytes` that would break a limit. The caller
 * holds cloneLimitsLock to the end of `tx`. The counts are read at once
 * (pipelined: one round trip), then checked in order.
 */
export async function assertCloneFits(svc: Services, tx: Tx, project: Project, room: CloneRoom): Promise<void> {
  const server = `${project.host}:${project.port}`;
  const size = room.parentBytes;
  const onServer = and(eq(projects.host, project.host), eq(projects.port, project.port), isNull(branches.deletedAt));
  const bytes = sql<number>`coalesce(sum(${branches.logicalSizeBytes}), 0)::bigint`;
  const [[mine], [budget], [all], [pending]] = await settleInOrder([
    tx
      .select({ n: sql<number>`count(*)::int`, bytes })
      .from(branches)
      .where(and(eq(branches.projectId, project.id), isNull(branches.deletedAt), eq(branches.isDefault, false))),
    tx
      .select({ bytes: dataPlaneServers.storageBudgetBytes })
      .from(dataPlaneServers)
      .where(and(eq(dataPlaneServers.host, project.host), eq(dataPlaneServers.port, project.port))),
    // What branch copies on the server use (against its budget), and what copies accepted but not cloned
    // yet will take (against its free space: a burst must not each see the same free space).
    tx.select({ bytes }).from(branches).innerJoin(projects, eq(projects.id, branches.projectId)).where(and(onServer, eq(branches.isDefault, false))),
    room.freeBytes !== null && room.totalBytes !== null
      ? tx.select({ bytes }).from(branches).innerJoin(projects, eq(projects.id, branches.projectId)).where(and(onServer, eq(branches.anonState, "created")))
      : [undefined],
  ]);
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

  if (budget?.bytes != null) {
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
    const free = room.freeBytes - Number(pending!.bytes);
    if (free - size < keep) {
      throw refused(
        "INSUFFICIENT_STORAGE",
        `data-plane server ${server} has ${gb(room.freeBytes)} free of ${gb(room.totalBytes)}${free < room.freeBytes ? `, ${gb(room.freeBytes - free)} of it promised to branches not cloned yet` : ""}; this branch needs ${gb(size)} (the size of its parent) and ${svc.config.ANONBRANCH_MIN_FREE_PERCENT}% of the disk (${gb(keep)}) must stay free`,
      );
    }
  }
}
