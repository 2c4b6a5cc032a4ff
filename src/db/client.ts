// The metadata database: one postgres.js pool, drizzle on top.
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema.ts";

export type Db = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql };
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export interface MetadataDb {
  sql: postgres.Sql;
  db: Db;
}

export function openMetadataDb(url: string, max = 10): MetadataDb {
  // connect_timeout: an unreachable metadata server fails a request in seconds (503), not 30 s.
  const sql = postgres(url, { max, connect_timeout: 10, onnotice: () => {}, connection: { application_name: "anonbranch" } });
  return { sql, db: drizzle(sql, { schema }) };
}

/**
 * The client of the metadata tables' change notifications (src/control/read-cache.ts): its LISTEN
 * connection (which postgres.js never closes for idleness) and one that sends the heartbeat every
 * second. That one closes after 5 s idle: a client given up on during an outage can still finish a
 * connection it began, after it was ended, and would otherwise keep it open for good.
 */
export function openChangeListener(url: string): postgres.Sql {
  return postgres(url, { max: 1, connect_timeout: 10, idle_timeout: 5, onnotice: () => {}, connection: { application_name: "anonbranch-changes" } });
}
