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
import { sql } from "drizzle-orm";
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
 * The lock that serialises the limit checks of one server, as an expression
 * (a caller takes it in one statement with its other locks, in a fixed order),
 * so N simultaneous requests cannot each see room for one more copy.
 */
export const cloneLimitsLock = (project: Pick<Project, "host" | "port">) =>
  sql`pg_catalog.pg_advisory_xact_lock(${LIMITS_LOCK}, pg_catalog.hashtext(${`${project.host}:${project.port}`}))`;

/**
 * Refuses a copy of `room.parentBytes` that would break a limit. The caller
 * holds cloneLimitsLock to the end of `tx`. What the limits are checked
 * against is read in one statement; the branch being created (`branchId`)
 * is never counted, so its row may be written before or after.
 */
export async function assertCloneFits(svc: Services, tx: Tx, project: Project, room: CloneRoom, branchId: string): Promise<void> {
  const server = `${project.host}:${project.port}`;
  const size = room.parentBytes;
  // One pass over the server's live copies (other than this one), joined through the projects on
  // host:port. Copies accepted but not cloned yet (anon_state 'created') are only weighed against free
  // space, which is known for a local server only.
  const [row] = await tx.execute<{ mine: number; mine_bytes: string; budget_bytes: string | null; server_bytes: string; pending_bytes: string }>(sql`
    SELECT count(*) FILTER (WHERE b.project_id = ${project.id})::int AS mine,
           coalesce(sum(b.logical_size_bytes) FILTER (WHERE b.project_id = ${project.id}), 0)::bigint AS mine_bytes,
           coalesce(sum(b.logical_size_bytes), 0)::bigint AS server_bytes,
           coalesce(sum(b.logical_size_bytes) FILTER (WHERE b.anon_state = 'created'), 0)::bigint AS pending_bytes,
           (SELECT ${dataPlaneServers.storageBudgetBytes} FROM ${dataPlaneServers}
             WHERE ${dataPlaneServers.host} = ${project.host} AND ${dataPlaneServers.port} = ${project.port}) AS budget_bytes
    FROM ${branches} b JOIN ${projects} p ON p.id = b.project_id
    WHERE p.host = ${project.host} AND p.port = ${project.port}
      AND b.deleted_at IS NULL AND NOT b.is_default AND b.id <> ${branchId}`);
  const counts = row!;
  const quota = project.settings.quota ?? {};
  if (quota.max_branches != null && counts.mine >= quota.max_branches) {
    throw refused(
      "BRANCH_LIMIT_EXCEEDED",
      `project ${project.id} has ${counts.mine} branches; its limit settings.quota.max_branches is ${quota.max_branches}: delete a branch or raise the limit`,
    );
  }
  const used = Number(counts.mine_bytes);
  if (quota.logical_size_bytes != null && used + size > quota.logical_size_bytes) {
    throw refused(
      "QUOTA_EXCEEDED",
      `project ${project.id}: settings.quota.logical_size_bytes is ${gb(quota.logical_size_bytes)}; its branch copies use ${gb(used)}; this branch needs ${gb(size)} (the size of its parent)`,
    );
  }

  if (counts.budget_bytes !== null) {
    const budget = Number(counts.budget_bytes);
    const usedOnServer = Number(counts.server_bytes);
    if (usedOnServer + size > budget) {
      throw refused(
        "STORAGE_BUDGET_EXCEEDED",
        `data-plane server ${server}: its storage budget is ${gb(budget)}; branch copies on it use ${gb(usedOnServer)}; this branch needs ${gb(size)} (the size of its parent)`,
      );
    }
  }

  if (room.freeBytes !== null && room.totalBytes !== null) {
    const keep = Math.ceil((room.totalBytes * svc.config.ANONBRANCH_MIN_FREE_PERCENT) / 100);
    const free = room.freeBytes - Number(counts.pending_bytes);
    if (free - size < keep) {
      throw refused(
        "INSUFFICIENT_STORAGE",
        `data-plane server ${server} has ${gb(room.freeBytes)} free of ${gb(room.totalBytes)}${free < room.freeBytes ? `, ${gb(room.freeBytes - free)} of it promised to branches not cloned yet` : ""}; this branch needs ${gb(size)} (the size of its parent) and ${svc.config.ANONBRANCH_MIN_FREE_PERCENT}% of the disk (${gb(keep)}) must stay free`,
      );
    }
  }
}
