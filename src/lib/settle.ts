// Pipelining on one connection: a transaction's independent statements are
// issued together (postgres.js writes them back to back) and cost one round
// trip instead of one each. This waits for all of them, so none is still in
// flight when the transaction ends, and reports failures deterministically.
import { sqlState } from "./errors.ts";

/** PostgreSQL's "current transaction is aborted": the echo of an earlier failure, never its cause. */
const ABORTED = "25P02";

/**
 * Awaits every promise, then throws the first failure in argument order (not
 * the first to arrive), skipping the "transaction is aborted" echoes a failed
 * statement causes in the ones pipelined after it.
 */
export async function settleInOrder<T extends readonly unknown[] | []>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = (await Promise.allSettled(promises)) as PromiseSettledResult<unknown>[];
  const failures: unknown[] = [];
  for (const r of results) if (r.status === "rejected") failures.push(r.reason);
  if (failures.length > 0) throw failures.find((e) => sqlState(e) !== ABORTED) ?? failures[0];
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
