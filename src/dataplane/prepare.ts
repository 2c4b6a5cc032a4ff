// Getting a cloned branch database ready for masking: the anon engine, the
// branch role (no access yet) and the masking rules as SECURITY LABELs.
import { canonicalLabel } from "../masking/validate.ts";
import type { MaskingRule } from "../masking/types.ts";
import { quoteIdent, quoteLiteral, quoteQualified } from "../lib/sql-quote.ts";
import type { DataPlaneSql, Queryable } from "./connection.ts";

/**
 * CREATE DATABASE … TEMPLATE copies neither ALTER DATABASE … SET settings nor
 * grants: the parent's database-wide settings are carried over here (the
 * branch's users expect the same search_path, time zone …); grants are not.
 */
export async function copyDatabaseSettings(admin: DataPlaneSql, parent: string, target: string): Promise<void> {
  const rows = await admin`
    SELECT pg_catalog.unnest(s.setconfig) AS setting
    FROM pg_catalog.pg_db_role_setting s JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
    WHERE d.datname = ${parent} AND s.setrole = 0`;
  for (const { setting } of rows as unknown as { setting: string }[]) {
    const eq = setting.indexOf("=");
    const name = setting.slice(0, eq);
    if (eq <= 0 || name === "session_preload_libraries") continue;
    await admin.begin(async (tx) => {
      await tx`SELECT pg_catalog.set_config(${name}, ${setting.slice(eq + 1)}, true)`;
      await tx.unsafe(`ALTER DATABASE ${quoteIdent(target)} SET ${quoteIdent(name)} FROM CURRENT`);
    });
  }
}

/**
 * Installs and initialises anon in a branch database and makes every later
 * session there load the label provider (not copied by TEMPLATE either).
 */
export async function prepareAnon(admin: DataPlaneSql, database: string, branchDb: DataPlaneSql): Promise<void> {
  await admin.unsafe(`ALTER DATABASE ${quoteIdent(database)} SET session_preload_libraries = 'anon'`);
  await branchDb.unsafe("LOAD 'anon'");
  await branchDb.begin(async (tx) => {
    // The session's search_path is pg_catalog, pg_temp; CASCADE would try to put
    // pgcrypto in pg_catalog. Extensions land where they would by default (public);
    // their scripts run with a search_path PostgreSQL sets itself.
    await tx.unsafe("SET LOCAL search_path = public");
    await tx.unsafe("CREATE EXTENSION IF NOT EXISTS anon CASCADE");
  });
  await branchDb.unsafe("SELECT anon.init()");
}

/** Lets the branch's masker (and nobody else) connect before the branch is anonymized. */
export async function grantMaskerConnect(admin: DataPlaneSql, database: string, masker: string): Promise<void> {
  await admin.unsafe(`GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${quoteIdent(masker)}`);
}

interface LabelledColumn {
  schema: string;
  table: string;
  column: string;
  label: string;
}

/** Every column label of provider anon in the current database. */
export async function readColumnLabels(db: Queryable): Promise<LabelledColumn[]> {
  const rows = await db`
    SELECT n.nspname AS schema, c.relname AS table, a.attname AS column, sl.label
    FROM pg_catalog.pg_seclabel sl
    JOIN pg_catalog.pg_class c ON c.oid = sl.objoid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = sl.objsubid
    WHERE sl.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND sl.objsubid > 0
      AND pg_catalog.lower(sl.provider) = 'anon' AND NOT a.attisdropped
    ORDER BY 1, 2, a.attnum`;
  return rows.map((r) => ({ schema: r.schema, table: r.table, column: r.column, label: r.label }));
}

/**
 * Makes the database's labels exactly `rules` (in canonical upper-case form),
 * then checks that anon.pg_masking_rules parses every one of them: a label the
 * view does not see would leave its column unmasked.
 */
export async function applyLabels(db: DataPlaneSql, database: string, rules: MaskingRule[]): Promise<void> {
  await db.begin(async (tx) => {
    for (const l of await readColumnLabels(tx)) {
      await tx.unsafe(`SECURITY LABEL FOR anon ON COLUMN ${quoteQualified(l.schema, l.table)}.${quoteIdent(l.column)} IS NULL`);
    }
    for (const rule of rules) {
      const column = `${quoteQualified(rule.schema_name, rule.table_name)}.${quoteIdent(rule.column_name)}`;
      await tx.unsafe(`SECURITY LABEL FOR anon ON COLUMN ${column} IS ${quoteLiteral(canonicalLabel(rule))}`);
    }
    const seen = await tx`
      SELECT n.nspname AS schema, r.relname AS table, r.attname AS column
      FROM anon.pg_masking_rules r JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace`;
    const parsed = new Set(seen.map((r) => `${r.schema}.${r.table}.${r.column}`));
    for (const rule of rules) {
      const key = `${rule.schema_name}.${rule.table_name}.${rule.column_name}`;
      if (!parsed.has(key)) {
        throw new Error(
          `the label on ${database}.${key} is not listed by anon.pg_masking_rules; the column would stay unmasked`,
        );
      }
    }
  });
}
