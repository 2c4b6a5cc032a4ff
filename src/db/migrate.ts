// Creates the metadata database when it is missing and applies migrations/.
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { quoteIdent } from "../lib/sql-quote.ts";
import { openMetadataDb } from "./client.ts";

const migrationsFolder = fileURLToPath(new URL("../../migrations", import.meta.url));

export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const maintenance = new URL(url);
  maintenance.pathname = "/postgres";
  const sql = postgres(maintenance.toString(), { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`SELECT 1 FROM pg_catalog.pg_database WHERE datname = ${name}`;
    if (rows.length === 0) {
      try {
        await sql.unsafe(`CREATE DATABASE ${quoteIdent(name)}`);
      } catch (error) {
        if ((error as { code?: string }).code !== "42P04") throw error; // created meanwhile
      }
    }
  } finally {
    await sql.end();
  }
}

export async function migrateMetadata(url: string): Promise<void> {
  await ensureDatabase(url);
  const { sql, db } = openMetadataDb(url, 1);
  try {
    await migrate(db, { migrationsFolder });
  } finally {
    await sql.end();
  }
}
