// Test access to the throwaway PostgreSQL that scripts/test.sh starts for the run.
import { randomBytes } from "node:crypto";
import postgres from "postgres";

export type Sql = postgres.Sql;

/** Admin URL of the test server (database `postgres`). */
export function testServerUrl(database = "postgres"): string {
  const base = process.env.ANONBRANCH_TEST_PG_URL;
  if (!base) {
    throw new Error("ANONBRANCH_TEST_PG_URL is not set: run the tests with `npm test`, which starts PostgreSQL");
  }
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A client over the test server's Unix socket, where pg_hba.conf checks
 * passwords (as it does on TCP for every role but postgres): proves a
 * credential works.
 */
export function connectWithPassword(url: string): Sql {
  const path = process.env.ANONBRANCH_TEST_PG_SOCKET;
  if (!path) throw new Error("ANONBRANCH_TEST_PG_SOCKET is not set: run the tests with `npm test`");
  return postgres(url, { max: 1, path, onnotice: () => {} });
}

/** A postgres.js client that keeps quiet about notices. */
export function connect(url: string, options: postgres.Options<{}> = {}): Sql {
  return postgres(url, { max: 4, onnotice: () => {}, ...options });
}

export interface ScratchDatabase {
  name: string;
  url: string;
  sql: Sql;
  drop(): Promise<void>;
}

/** A fresh, uniquely named database on the test server; drop() removes it. */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  const admin = connect(testServerUrl(), { max: 1 });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = testServerUrl(name);
  const sql = connect(url);
  return {
    name,
    url,
    sql,
    async drop() {
      await sql.end();
      const a = connect(testServerUrl(), { max: 1 });
      await a.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    },
  };
}
