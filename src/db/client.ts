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

/** One connection that only LISTENs for the metadata tables' change notifications (src/control/read-cache.ts). */
export function openChangeListener(url: string): postgres.Sql {
  return postgres(url, { max: 1, connect_timeout: 10, idle_timeout: 0, onnotice: () => {}, connection: { application_name: "anonbranch-changes" } });
}
