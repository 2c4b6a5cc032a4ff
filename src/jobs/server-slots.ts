// At most N clone or masking jobs at once on one data-plane server (the one
// that holds production): the rest wait in order, and every waiting branch
// says where it stands in its status_message. A slot is a session advisory
// lock on the job's branch-lock connection, so a worker that dies frees it.
import { setTimeout as sleep } from "node:timers/promises";
import { and, eq, inArray, sql } from "drizzle-orm";
import type postgres from "postgres";
import type { Services } from "../control/context.ts";
import { operations, projects } from "../db/schema.ts";

const SLOT_NAMESPACE = 0x736c6f74; // "slot"
/** Operations that copy or rewrite a whole database; deletes free space and never wait. */
const boundedActions = ["create_branch", "anonymize_branch", "reset_to_parent"];
const POLL_MS = 500;

type Operation = Pick<typeof operations.$inferSelect, "id" | "projectId" | "action">;

/** Pending bounded operations on the server that hold no slot, in queue order. */
const waitingOn = (host: string, port: number) => sql`
  SELECT o.id, o.branch_id, o.created_at FROM operations o JOIN projects p ON p.id = o.project_id
  WHERE o.status IN ('scheduling', 'running') AND o.server_slot IS NULL
    AND o.action IN ${sql.raw(`(${boundedActions.map((a) => `'${a}'`).join(", ")})`)}
    AND (o.retry_at IS NULL OR o.retry_at <= now())
    AND p.host = ${host} AND p.port = ${port}`;

/** Writes each waiting branch's place in the queue into its status_message. */
async function showQueue(svc: Services, host: string, port: number, limit: number): Promise<void> {
  await svc.db.execute(sql`
    UPDATE branches b
    SET status_message = 'Queued: position ' || q.pos || ' of ' || q.total || ' for data-plane server '
        || ${`${host}:${port}`} || ' (at most ' || ${limit}::int || ' clone or masking jobs run there at once)',
        updated_at = now()
    FROM (SELECT w.branch_id, row_number() OVER (ORDER BY w.created_at, w.id) AS pos, count(*) OVER () AS total
          FROM (${waitingOn(host, port)}) w) q
    WHERE b.id = q.branch_id`);
}

async function positionOf(svc: Services, op: Operation, host: string, port: number): Promise<number> {
  const rows = await svc.db.execute<{ ahead: number }>(sql`
    SELECT count(*)::int AS ahead FROM (${waitingOn(host, port)}) w, operations me
    WHERE me.id = ${op.id} AND (w.created_at, w.id) < (me.created_at, me.id)`);
  return (rows[0]?.ahead ?? 0) + 1;
}

/**
 * Thrown when the operation is too far back in its server's queue to wait in
 * a worker: the job is sent again a little later (runBranchJob), so workers are
 * never all tied up by jobs waiting behind ones no worker has picked up yet.
 */
export class Requeue extends Error {
  constructor(readonly afterSeconds: number) {
    super(`queued; retry in ${afterSeconds} s`);
  }
}

const REQUEUE_SECONDS = 2;

/**
 * Runs `fn` holding one of the server's slots, served in queue order: the
 * first `limit` operations of the queue wait here for a slot; the ones behind
 * them are requeued. `conn` is the job's reserved connection (its branch lock's).
 */
export async function withServerSlot<T>(svc: Services, conn: postgres.ReservedSql, op: Operation, fn: () => Promise<T>): Promise<T> {
  const limit = svc.config.ANONBRANCH_MAX_JOBS_PER_SERVER;
  if (limit <= 0 || !boundedActions.includes(op.action)) return fn();
  const [server] = await svc.db.select({ host: projects.host, port: projects.port }).from(projects).where(eq(projects.id, op.projectId));
  if (!server) return fn();
  const { host, port } = server;
  await svc.db.update(operations).set({ serverSlot: null }).where(eq(operations.id, op.id));
  let slot: number | null = null;
  for (;;) {
    if ((await positionOf(svc, op, host, port)) > limit) {
      await showQueue(svc, host, port, limit);
      throw new Requeue(REQUEUE_SECONDS);
    }
    for (let i = 0; i < limit && slot === null; i++) {
      const [row] = await conn`SELECT pg_catalog.pg_try_advisory_lock(${SLOT_NAMESPACE}, pg_catalog.hashtext(${`${host}:${port}#${i}`})) AS got`;
      if (row?.got) slot = i;
    }
    if (slot !== null) break;
    await showQueue(svc, host, port, limit);
    await sleep(POLL_MS);
  }
  await svc.db.update(operations).set({ serverSlot: slot }).where(and(eq(operations.id, op.id), inArray(operations.status, ["scheduling", "running"])));
  await showQueue(svc, host, port, limit);
  try {
    return await fn();
  } finally {
    // On a dead connection the lock is gone already; the row is cleared on the next attempt.
    await conn`SELECT pg_catalog.pg_advisory_unlock(${SLOT_NAMESPACE}, pg_catalog.hashtext(${`${host}:${port}#${slot}`}))`.catch(() => {});
    await svc.db.update(operations).set({ serverSlot: null }).where(eq(operations.id, op.id)).catch(() => {});
    await showQueue(svc, host, port, limit).catch(() => {});
  }
}
