// Connections to a data-plane server. Each use opens a small client and closes
// it, so no idle session lingers on a parent database (CREATE DATABASE …
// TEMPLATE refuses to copy a database that has sessions).
import postgres from "postgres";

export type DataPlaneSql = postgres.Sql;
/** A client or a transaction: what read-only helpers accept. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

export interface DataPlaneTarget {
  /** Admin connection URI of the server (a secret). */
  sourceUri: string;
}

/** The same server and credentials, another database. */
export function databaseUri(sourceUri: string, database: string): string {
  const url = new URL(sourceUri);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

export function connectDataPlane(sourceUri: string, database: string | null = null): DataPlaneSql {
  return postgres(database === null ? sourceUri : databaseUri(sourceUri, database), {
    max: 1,
    onnotice: () => {},
    connect_timeout: 10,
    idle_timeout: 5,
    connection: { application_name: "anonbranch" },
  });
}

export async function withDataPlane<T>(
  sourceUri: string,
  database: string | null,
  fn: (sql: DataPlaneSql) => Promise<T>,
): Promise<T> {
  const sql = connectDataPlane(sourceUri, database);
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * A data-plane error as a sentence. PostgreSQL's DETAIL is left out on purpose:
 * for a unique violation it quotes the row's values, which must not reach a
 * status message.
 */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const transientSqlStates = new Set(["57P01", "57P02", "57P03", "53300", "40001", "40P01"]);
const transientClientCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);

/**
 * Errors worth retrying: the server is unreachable, restarting, out of
 * connections, or the transaction lost a serialisation race. Anything else
 * (a rule that breaks a constraint, a missing object) fails the same way again.
 */
export function isTransient(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (transientClientCodes.has(code) || transientSqlStates.has(code) || code.startsWith("08"))) {
      return true;
    }
  }
  return false;
}
