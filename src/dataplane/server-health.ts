// What the control plane asks of a data-plane server outside branch jobs:
// is it up, how big are the parents, how much room is left on its disk.
import postgres from "postgres";
import { RecentReads, serverKey } from "../lib/recent-reads.ts";
import { databaseUri, withSharedDataPlane } from "./connection.ts";

/** True when the server answers a trivial query within a few seconds. */
export async function pingServer(sourceUri: string, timeoutSeconds = 3): Promise<boolean> {
  const sql = postgres(databaseUri(sourceUri, "postgres"), {
    max: 1,
    connect_timeout: timeoutSeconds,
    idle_timeout: 1,
    onnotice: () => {},
    connection: { application_name: "anonbranch-readyz" },
  });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

export interface CloneRoom {
  /** Bytes the parent databases take: what one more copy of them will take. */
  parentBytes: number;
  /** Free bytes on the filesystem of the server's data directory, when this process can see it. */
  freeBytes: number | null;
  totalBytes: number | null;
}

const localHosts = new Set(["localhost", "127.0.0.1", "::1", "[::1]", ""]);

/**
 * How old a parent's measured size may be when a create checks quotas,
 * budgets and free space against it: sizes move slowly, and measuring one
 * stats every file of the databases (milliseconds; more while the server
 * clones or masks). The free space is read at every call.
 */
export const PARENT_SIZE_MAX_AGE_MS = 30_000;
const recentSizes = new RecentReads<{ bytes: number; dataDirectory: string }>();

/**
 * Sizes the parents (a read at most maxAgeMs old may answer) and, when the
 * server runs on this machine (a local host name and a data directory we can
 * stat), the free space of its filesystem. A remote server's free space
 * cannot be read through SQL: then only the budget and quotas protect it.
 */
export async function measureCloneRoom(sourceUri: string, parentDatabases: string[], options: { maxAgeMs?: number } = {}): Promise<CloneRoom> {
  const key = `${serverKey(sourceUri)}/${[...parentDatabases].sort().join("/")}`;
  const { bytes, dataDirectory } = await recentSizes.get(key, options.maxAgeMs ?? 0, () =>
    withSharedDataPlane(sourceUri, async (sql) => {
      const [row] = await sql`
        SELECT coalesce(sum(pg_catalog.pg_database_size(datname)), 0)::bigint AS bytes,
               pg_catalog.current_setting('data_directory') AS data_directory
        FROM pg_catalog.pg_database WHERE datname = ANY(${parentDatabases})`;
      return { bytes: Number(row!.bytes), dataDirectory: row!.data_directory as string };
    }),
  );
  const disk = localHosts.has(new URL(sourceUri).hostname) ? await statDisk(dataDirectory) : null;
  return { parentBytes: bytes, freeBytes: disk?.free ?? null, totalBytes: disk?.total ?? null };
}

// Imported once, on first use, so that runtimes without a filesystem (Workers) just skip it. (A dynamic
// import at every call costs a round trip to the module loader's thread under tsx.)
let fsModule: Promise<typeof import("node:fs/promises") | null> | undefined;

async function statDisk(path: string): Promise<{ free: number; total: number } | null> {
  try {
    fsModule ??= import("node:fs/promises").catch(() => null);
    const fs = await fsModule;
    if (!fs) return null;
    const s = await fs.statfs(path);
    return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
  } catch {
    return null;
  }
}
