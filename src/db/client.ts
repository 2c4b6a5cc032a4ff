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
  const sql = postgres(url, { max, onnotice: () => {}, connection: { application_name: "anonbranch" } });
  return { sql, db: drizzle(sql, { schema }) };
}
