// One job at a time per branch, across every worker process: a session-level
// advisory lock on a connection reserved for the job's duration. If the worker
// dies, PostgreSQL drops the connection and the lock with it — which is how
// recovery (src/jobs/recovery.ts) tells a dead job from a running one.
import type postgres from "postgres";
import type { Services } from "../control/context.ts";

const LOCK_NAMESPACE = 0x616e6f6e; // "anon"

/** Runs `fn` holding the branch's lock; `fn` gets the lock's connection (for locks that must die with it). */
export async function withBranchLock<T>(svc: Services, branchId: string, fn: (conn: postgres.ReservedSql) => Promise<T>): Promise<T> {
  const conn = await svc.db.$client.reserve();
  try {
    await conn`SELECT pg_catalog.pg_advisory_lock(${LOCK_NAMESPACE}, pg_catalog.hashtext(${branchId}))`;
    try {
      return await fn(conn);
    } finally {
      await conn`SELECT pg_catalog.pg_advisory_unlock(${LOCK_NAMESPACE}, pg_catalog.hashtext(${branchId}))`;
    }
  } finally {
    conn.release();
  }
}

/** True when no job holds the branch (checked without waiting). */
export async function isBranchIdle(svc: Services, branchId: string): Promise<boolean> {
  const conn = await svc.db.$client.reserve();
  try {
    const [row] = await conn`
      SELECT pg_catalog.pg_try_advisory_lock(${LOCK_NAMESPACE}, pg_catalog.hashtext(${branchId})) AS free`;
    if (row?.free) {
      await conn`SELECT pg_catalog.pg_advisory_unlock(${LOCK_NAMESPACE}, pg_catalog.hashtext(${branchId}))`;
      return true;
    }
    return false;
  } finally {
    conn.release();
  }
}

/** Runs fn under the branch's lock if no job holds it now; null (fn not run) when one does. */
export async function tryWithBranchLock<T>(svc: Services, branchId: string, fn: () => Promise<T>): Promise<{ value: T } | null> {
  const conn = await svc.db.$client.reserve();
  try {
    const [row] = await conn`SELECT pg_catalog.pg_try_advisory_lock(${LOCK_NAMESPACE}, pg_catalog.hashtext(${branchId})) AS locked`;
    if (!row?.locked) return null;
    try {
      return { value: await fn() };
    } finally {
      await conn`SELECT pg_catalog.pg_advisory_unlock(${LOCK_NAMESPACE}, pg_catalog.hashtext(${branchId}))`;
    }
  } finally {
    conn.release();
  }
}
