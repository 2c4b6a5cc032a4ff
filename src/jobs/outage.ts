// A branch job that loses a server (a PostgreSQL restart, a network cut) is not
// a failed job: it waits for the metadata database to answer again, then puts
// its operation back in the queue with backoff, saying in the branch's
// status_message what it waits for. Such retries are counted apart from the
// interruptions that maintenance counts (a worker that died), so any number of
// restarts never fails a branch; only one outage longer than about half an hour
// does (MAX_OUTAGE_RETRIES in a row), and it says so.
import { setTimeout as sleep } from "node:timers/promises";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Services } from "../control/context.ts";
import { branches, operations, projects } from "../db/schema.ts";
import { describeError } from "../dataplane/connection.ts";
import { bossDb } from "./boss-db.ts";
import { jobFor } from "./job-for.ts";
import { jobOptions } from "./queues.ts";
import { setAnonState } from "./branch-state.ts";

/** Consecutive outage retries before giving up: about half an hour at 30 s apart. */
const MAX_OUTAGE_RETRIES = 60;
/** A retry failing within this long after it was due continues the streak. */
const STREAK_GAP_SECONDS = 60;
const MAX_DELAY_SECONDS = 30;
/** How long a job waits in place for the metadata database before leaving it to pg-boss and maintenance. */
const METADATA_WAIT_MS = 10 * 60_000;

let lastOutageAt = 0;

/** Records that this process saw a server go away (read by maintenance). */
export function noteOutage(): void {
  lastOutageAt = Date.now();
}

/** Whether this process saw an outage in the last `withinMs`. */
export function sawRecentOutage(withinMs = 120_000): boolean {
  return Date.now() - lastOutageAt < withinMs;
}

/** Our own pool was closed (the process is stopping): nothing to wait for. */
function poolClosed(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "CONNECTION_ENDED" || code === "CONNECTION_DESTROYED") return true;
  }
  return false;
}

async function metadataAnswers(svc: Services): Promise<boolean> {
  try {
    await svc.db.execute(sql`SELECT 1`);
    return true;
  } catch (error) {
    if (poolClosed(error)) throw error;
    return false;
  }
}

/** Waits until the metadata database answers; returns whether it was down at all. */
async function waitForMetadata(svc: Services): Promise<boolean> {
  if (await metadataAnswers(svc)) return false;
  const deadline = Date.now() + METADATA_WAIT_MS;
  let pause = 250;
  while (!(await metadataAnswers(svc))) {
    if (Date.now() > deadline) throw new Error("the metadata database did not come back in time");
    await sleep(pause);
    pause = Math.min(pause * 2, 2_000);
  }
  return true;
}

/**
 * Reschedules the job's operation after a connection failure. Returns when
 * the retry is recorded (or found unnecessary); throws only if the metadata
 * database stays down, leaving the job to pg-boss's retry and maintenance.
 */
export async function retryAfterOutage(svc: Services, job: { branchId: string; operationId: string }, error: unknown): Promise<void> {
  if (poolClosed(error)) throw error; // shutting down: maintenance resumes the job later
  noteOutage();
  const metadataWasDown = await waitForMetadata(svc);
  const [target] = await svc.db
    .select({ host: projects.host, port: projects.port })
    .from(operations)
    .innerJoin(projects, eq(projects.id, operations.projectId))
    .where(eq(operations.id, job.operationId));
  const server = target ? `${target.host}:${target.port}` : "its server";
  const what = metadataWasDown ? "the metadata database" : `the data-plane server ${server}`;
  await svc.db.transaction(async (tx) => {
    // A streak of outages: one retry failing soon after the previous was due. A
    // retry that ran a while before this outage starts a new streak, so backoff
    // and the give-up bound are about one outage, not every restart in a branch's life.
    const [op] = await tx
      .update(operations)
      .set({
        status: "scheduling",
        outageRetries: sql`CASE WHEN ${operations.retryAt} > now() - interval '${sql.raw(String(STREAK_GAP_SECONDS))} seconds' THEN ${operations.outageRetries} + 1 ELSE 1 END`,
        serverSlot: null,
        updatedAt: new Date(),
      })
      .where(and(eq(operations.id, job.operationId), inArray(operations.status, ["scheduling", "running"])))
      .returning();
    if (!op) return; // finished meanwhile, or failed by maintenance
    if (op.outageRetries > MAX_OUTAGE_RETRIES) {
      const message = `Gave up after ${MAX_OUTAGE_RETRIES} attempts in a row: ${what} stayed unreachable (${describeError(error)}); start the operation again`;
      await tx.update(operations).set({ status: "failed", error: message, finishedAt: new Date() }).where(eq(operations.id, op.id));
      if (op.action !== "delete_timeline") {
        await setAnonState(tx, job.branchId, op.action === "create_branch" ? "initialization_error" : "error", message);
      }
      return;
    }
    const delay = Math.min(2 ** (op.outageRetries - 1), MAX_DELAY_SECONDS);
    const message = `Waiting for ${what} to be reachable again (${describeError(error)}); retry ${op.outageRetries} in ${delay} s`;
    await tx.update(operations).set({ error: message, retryAt: new Date(Date.now() + delay * 1000) }).where(eq(operations.id, op.id));
    await tx.update(branches).set({ statusMessage: message, updatedAt: new Date() }).where(eq(branches.id, job.branchId));
    const next = await jobFor(svc, op, tx);
    // Sent at once, in this transaction; the job waits for retry_at itself (runBranchJob):
    // pg-boss's startAfter cannot go through a drizzle transaction (its SQL casts one parameter two ways).
    if (next) await svc.boss.send(next.queue, next.data, { ...jobOptions, db: bossDb(tx) });
  });
  svc.log.warn("branch job rescheduled after an outage", { branch_id: job.branchId, operation_id: job.operationId, error });
}

const lockFreeSince = new Map<string, number>();

/**
 * Maintenance resumes an operation whose branch lock is free (its worker
 * died). Right after an outage, a live job also has a free lock for a moment:
 * its connection died, and it is about to reschedule itself. So when this
 * process saw an outage recently, an operation is resumed only once its lock
 * has been seen free for `graceMs`.
 */
export function resumeNow(operationId: string, graceMs = 8_000): boolean {
  if (!sawRecentOutage()) return true;
  for (const [id, since] of lockFreeSince) if (Date.now() - since > 10 * 60_000) lockFreeSince.delete(id);
  const since = lockFreeSince.get(operationId);
  if (since === undefined) {
    lockFreeSince.set(operationId, Date.now());
    return false;
  }
  if (Date.now() - since < graceMs) return false;
  lockFreeSince.delete(operationId);
  return true;
}
