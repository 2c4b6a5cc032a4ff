// Cloning a parent database with CREATE DATABASE … TEMPLATE, so that nobody but
// the worker's admin can ever connect to the copy before it is masked.
//
// Strategy: FILE_COPY by default. WAL_LOG (PostgreSQL 15's default) writes the
// whole copy into WAL, which every replica and WAL archive of the production
// server would then receive; FILE_COPY copies files and logs a few records, at
// the price of a checkpoint per clone. ANONBRANCH_CLONE_STRATEGY switches it.
import { quoteIdent } from "../lib/sql-quote.ts";
import type { DataPlaneSql } from "./connection.ts";

export type CloneStrategy = "FILE_COPY" | "WAL_LOG";

export async function databaseExists(admin: DataPlaneSql, name: string): Promise<boolean> {
  const rows = await admin`SELECT 1 FROM pg_catalog.pg_database WHERE datname = ${name}`;
  return rows.length > 0;
}

export async function sessionsOn(admin: DataPlaneSql, database: string): Promise<number> {
  const [row] = await admin`
    SELECT count(*)::int AS n FROM pg_catalog.pg_stat_activity
    WHERE datname = ${database} AND pid <> pg_catalog.pg_backend_pid()`;
  return (row?.n as number | undefined) ?? 0;
}

export class ParentBusyError extends Error {
  constructor(
    readonly database: string,
    readonly sessions: number,
  ) {
    super(`waiting for ${sessions} session${sessions === 1 ? "" : "s"} on ${database} to finish`);
  }
}

/**
 * Creates `target` from `parent` without connections, revokes PUBLIC's CONNECT
 * and only then allows connections (which the admin alone now has).
 * Idempotent: a target left by an interrupted run is finished, not recreated.
 */
export async function cloneDatabase(
  admin: DataPlaneSql,
  parent: string,
  target: string,
  strategy: CloneStrategy,
): Promise<void> {
  if (!(await databaseExists(admin, target))) {
    try {
      await admin.unsafe(
        `CREATE DATABASE ${quoteIdent(target)} TEMPLATE ${quoteIdent(parent)} STRATEGY ${strategy} ALLOW_CONNECTIONS false`,
      );
    } catch (error) {
      // 55006: source database "…" is being accessed by other users
      if ((error as { code?: string }).code === "55006") {
        throw new ParentBusyError(parent, await sessionsOn(admin, parent));
      }
      throw error;
    }
  }
  await admin.unsafe(`REVOKE ALL ON DATABASE ${quoteIdent(target)} FROM PUBLIC`);
  await admin.unsafe(`ALTER DATABASE ${quoteIdent(target)} ALLOW_CONNECTIONS true`);
}

/** Drops a branch database, ending its sessions (never used on a parent). */
export async function dropDatabase(admin: DataPlaneSql, name: string): Promise<void> {
  await admin.unsafe(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}
