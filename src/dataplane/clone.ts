// Cloning a parent database with CREATE DATABASE … TEMPLATE, so that nobody but
// the worker's admin can ever connect to the copy before it is masked.
//
// Strategy, auto by default: WAL_LOG (PostgreSQL 15's default) for parents up
// to ANONBRANCH_CLONE_WAL_LOG_MAX_MB, FILE_COPY above.
//  - FILE_COPY copies files and logs a few records, at the price of two
//    checkpoints per clone: every dirty buffer of the whole server is written
//    out, and every page written after it costs a full-page image in WAL. On a
//    busy server, a burst of small clones made that the dominant cost.
//  - WAL_LOG writes the whole copy into WAL, which every replica and WAL
//    archive of the server then receives: cheap for a small parent, a flood
//    for a large one.
// ANONBRANCH_CLONE_STRATEGY=FILE_COPY|WAL_LOG forces one.
import { quoteIdent } from "../lib/sql-quote.ts";
import type { DataPlaneSql } from "./connection.ts";

export type CloneStrategy = "FILE_COPY" | "WAL_LOG";

/** The strategy for a parent of `parentBytes`, from the setting (auto decides by size). */
export function chooseCloneStrategy(setting: CloneStrategy | "auto", parentBytes: number, walLogMaxMb: number): CloneStrategy {
  if (setting !== "auto") return setting;
  return parentBytes <= walLogMaxMb * 1024 * 1024 ? "WAL_LOG" : "FILE_COPY";
}

export async function databaseSize(admin: DataPlaneSql, name: string): Promise<number> {
  const [row] = await admin`SELECT pg_catalog.pg_database_size(${name})::bigint AS bytes`;
  return Number(row!.bytes);
}

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
 * Returns the strategy used (null when the target already existed).
 */
export async function cloneDatabase(
  admin: DataPlaneSql,
  parent: string,
  target: string,
  setting: { strategy: CloneStrategy | "auto"; walLogMaxMb: number },
): Promise<CloneStrategy | null> {
  let strategy: CloneStrategy | null = null;
  if (!(await databaseExists(admin, target))) {
    strategy = chooseCloneStrategy(setting.strategy, setting.strategy === "auto" ? await databaseSize(admin, parent) : 0, setting.walLogMaxMb);
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
  return strategy;
}

/** Drops a branch database, ending its sessions (never used on a parent). */
export async function dropDatabase(admin: DataPlaneSql, name: string): Promise<void> {
  await admin.unsafe(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}
