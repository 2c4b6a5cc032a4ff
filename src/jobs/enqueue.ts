// Enqueueing a branch job: pg-boss's own insert on the caller's transaction
// (a rollback leaves no job), and a NOTIFY that the worker turns into an
// immediate fetch (src/jobs/worker.ts) — delivered at commit, so a queued
// branch starts at once instead of at the worker's next poll.
import { sql } from "drizzle-orm";
import type { Services } from "../control/context.ts";
import type { Tx } from "../db/client.ts";
import { bossDb } from "./boss-db.ts";
import { jobOptions } from "./queues.ts";
import { settleInOrder } from "../lib/settle.ts";

/** The channel workers LISTEN on; the payload is the queue's name. */
export const JOBS_CHANNEL = "anonbranch_jobs";

export async function enqueueJob(svc: Services, tx: Tx, queue: string, data: object): Promise<void> {
  // Pipelined: one round trip.
  await settleInOrder([svc.boss.send(queue, data, { ...jobOptions, db: bossDb(tx) }), tx.execute(sql`SELECT pg_catalog.pg_notify(${JOBS_CHANNEL}, ${queue})`)]);
}
