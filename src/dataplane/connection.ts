// Connections to a data-plane server. Each use opens a small client and closes
// it, so no idle session lingers on a parent database (CREATE DATABASE …
// TEMPLATE refuses to copy a database that has sessions).
import postgres from "postgres";
import { BoundedMap } from "../lib/bounded-map.ts";
import { isConnectionFailure } from "../lib/errors.ts";

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

/**
 * Every session anonbranch opens on a data plane starts with search_path =
 * pg_catalog, pg_temp: a name the session resolves can then only be a
 * built-in or its own temporary object, never a function or operator that a
 * parent role or a branch user put in a schema of theirs (CVE-2018-1058).
 */
export const SAFE_SEARCH_PATH = "pg_catalog, pg_temp";

export interface ConnectOptions {
  max?: number;
  /** Startup parameters beyond application_name and search_path (e.g. role). */
  params?: Record<string, string>;
  /**
   * Sessions opened through a login window cannot reconnect (the role is
   * NOLOGIN again): keep them open until end(), however long they idle.
   */
  pinned?: boolean;
}

export function connectDataPlane(sourceUri: string, database: string | null = null, options: ConnectOptions = {}): DataPlaneSql {
  return postgres(database === null ? sourceUri : databaseUri(sourceUri, database), {
    max: options.max ?? 1,
    onnotice: () => {},
    connect_timeout: 10,
    ...(options.pinned ? { idle_timeout: 0, max_lifetime: null } : { idle_timeout: 5 }),
    connection: { application_name: "anonbranch", search_path: SAFE_SEARCH_PATH, ...options.params },
  });
}

/** The same server and database as `sourceUri`, logged in as `user`. */
export function connectAs(
  sourceUri: string,
  database: string,
  credentials: { user: string; password: string },
  options: ConnectOptions = {},
): DataPlaneSql {
  const url = new URL(databaseUri(sourceUri, database));
  url.username = encodeURIComponent(credentials.user);
  url.password = encodeURIComponent(credentials.password);
  return connectDataPlane(url.toString(), null, options);
}

/**
 * Small pools on a server's maintenance database (the source URI's), shared
 * by the requests of this process that ask the server something quick: their
 * sessions close after two idle seconds, so none lingers.
 */
const shared = new BoundedMap<string, DataPlaneSql>(64);
let sharing = false;

/**
 * Node processes turn sharing on at start. Off by default: on Cloudflare
 * Workers a connection opened for one request cannot serve another.
 */
export function shareDataPlaneConnections(): void {
  sharing = true;
}

export async function withSharedDataPlane<T>(sourceUri: string, fn: (sql: DataPlaneSql) => Promise<T>): Promise<T> {
  if (!sharing) return withDataPlane(sourceUri, null, fn);
  let sql = shared.get(sourceUri);
  if (!sql) {
    sql = postgres(sourceUri, {
      max: 2,
      onnotice: () => {},
      connect_timeout: 10,
      idle_timeout: 2,
      connection: { application_name: "anonbranch", search_path: SAFE_SEARCH_PATH },
    });
    shared.set(sourceUri, sql);
  }
  return fn(sql);
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

/** Serialisation races: the same statement succeeds when run again. */
const retryableSqlStates = new Set(["40001", "40P01"]);

/**
 * Errors worth retrying: the server is unreachable, restarting, out of
 * connections (isConnectionFailure, src/lib/errors.ts), or the transaction lost
 * a serialisation race. Anything else (a rule that breaks a constraint, a
 * missing object) fails the same way again.
 */
export function isTransient(error: unknown): boolean {
  if (isConnectionFailure(error)) return true;
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && retryableSqlStates.has(code)) return true;
  }
  return false;
}
