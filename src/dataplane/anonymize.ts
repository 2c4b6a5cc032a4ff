// Static masking of one branch database, then the hardening that makes the
// original values unrecoverable, then the hand-over to the branch role.
import { quoteIdent, quoteQualified } from "../lib/sql-quote.ts";
import type { DataPlaneSql } from "./connection.ts";

export interface MaskedTable {
  oid: number;
  schema: string;
  table: string;
  columns: number;
}

/** Tables that anon.pg_masking_rules says have masked columns, in name order. */
export async function maskedTables(db: DataPlaneSql): Promise<MaskedTable[]> {
  const rows = await db`
    SELECT r.attrelid::int AS oid, n.nspname AS schema, r.relname AS table, count(*)::int AS columns
    FROM anon.pg_masking_rules r
    JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
    JOIN pg_catalog.pg_class c ON c.oid = r.attrelid
    WHERE c.relkind IN ('r', 'p')
    GROUP BY 1, 2, 3
    ORDER BY 2, 3`;
  return rows.map((r) => ({ oid: r.oid, schema: r.schema, table: r.table, columns: r.columns }));
}

interface UserTrigger {
  table: string;
  name: string;
}

/**
 * Masks the given tables in one transaction, table by table, as the branch
 * role: a masking expression can do no more than the branch's own user could
 * (PostgreSQL Anonymizer 1.x before 1.3 let rules escalate to superuser).
 * User triggers that are enabled are disabled for the run and re-enabled
 * before commit (an audit trigger would otherwise copy every original row
 * into its history table); internal triggers (foreign keys) keep firing.
 */
export async function maskTables(
  db: DataPlaneSql,
  role: string,
  tables: MaskedTable[],
  onTable: (table: MaskedTable, index: number) => Promise<void>,
): Promise<void> {
  await db.begin(async (tx) => {
    await tx.unsafe(`SET LOCAL ROLE ${quoteIdent(role)}`);
    const triggers = (await tx`
      SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS table, t.tgname AS name
      FROM pg_catalog.pg_trigger t
      JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'anon')`) as unknown as UserTrigger[];
    for (const t of triggers) await tx.unsafe(`ALTER TABLE ${t.table} DISABLE TRIGGER ${quoteIdent(t.name)}`);
    for (const [i, table] of tables.entries()) {
      await onTable(table, i);
      await tx`SELECT anon.anonymize_table(${table.oid}::oid::regclass)`;
    }
    for (const t of triggers) await tx.unsafe(`ALTER TABLE ${t.table} ENABLE TRIGGER ${quoteIdent(t.name)}`);
  });
}

/**
 * Leaves no original value behind: VACUUM FULL rewrites heap and indexes (no
 * dead tuple, no old index entry), ANALYZE replaces pg_stats, and every
 * materialized view is refreshed from the masked tables.
 */
export async function hardenDatabase(
  db: DataPlaneSql,
  tables: MaskedTable[],
  afterTable: (table: MaskedTable) => void = () => {},
): Promise<void> {
  for (const t of tables) {
    await db.unsafe(`VACUUM (FULL, ANALYZE) ${quoteQualified(t.schema, t.table)}`);
    afterTable(t);
  }
  const views = await db`
    SELECT n.nspname AS schema, c.relname AS name
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'm' ORDER BY 1, 2`;
  for (const v of views) {
    await db.unsafe(`REFRESH MATERIALIZED VIEW ${quoteQualified(v.schema, v.name)}`);
    await db.unsafe(`VACUUM (FULL, ANALYZE) ${quoteQualified(v.schema, v.name)}`);
  }
}

const userSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'anon') AND n.nspname NOT LIKE 'pg\\_%'`;
const notFromExtension = (classOid: string, objOid: string): string =>
  `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = '${classOid}'::pg_catalog.regclass AND d.objid = ${objOid} AND d.deptype = 'e')`;

/**
 * Gives the branch's objects to its role, object by object: user schemas,
 * relations, routines and types. Never REASSIGN OWNED, which would also move
 * shared objects such as other databases owned by the same role. The role
 * still cannot connect: that is grantAccess(), once the branch is masked.
 */
export async function handOverObjects(db: DataPlaneSql, role: string): Promise<void> {
  const r = quoteIdent(role);
  await db.begin(async (tx) => {
    const schemas = await tx.unsafe(
      `SELECT pg_catalog.quote_ident(n.nspname) AS name FROM pg_catalog.pg_namespace n
       WHERE ${userSchemas} AND ${notFromExtension("pg_catalog.pg_namespace", "n.oid")}`,
    );
    for (const s of schemas) await tx.unsafe(`ALTER SCHEMA ${s.name} OWNER TO ${r}`);

    const relations = await tx.unsafe(
      `SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name, c.relkind AS kind
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${userSchemas}
         AND ${notFromExtension("pg_catalog.pg_class", "c.oid")}
       ORDER BY c.relkind = 'S'`,
    );
    const command: Record<string, string> = {
      r: "TABLE", p: "TABLE", f: "FOREIGN TABLE", v: "VIEW", m: "MATERIALIZED VIEW", S: "SEQUENCE",
    };
    for (const rel of relations) await tx.unsafe(`ALTER ${command[rel.kind]} ${rel.name} OWNER TO ${r}`);

    const routines = await tx.unsafe(
      `SELECT p.oid::pg_catalog.regprocedure::text AS name FROM pg_catalog.pg_proc p
       JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
       WHERE ${userSchemas} AND ${notFromExtension("pg_catalog.pg_proc", "p.oid")}`,
    );
    for (const f of routines) await tx.unsafe(`ALTER ROUTINE ${f.name} OWNER TO ${r}`);

    const types = await tx.unsafe(
      `SELECT pg_catalog.format('%I.%I', n.nspname, t.typname) AS name FROM pg_catalog.pg_type t
       JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
       WHERE t.typtype IN ('e', 'd', 'r') AND ${userSchemas}
         AND ${notFromExtension("pg_catalog.pg_type", "t.oid")}`,
    );
    for (const t of types) await tx.unsafe(`ALTER TYPE ${t.name} OWNER TO ${r}`);

    // The masking functions and their fake-data tables stay the admin's; the role may use them.
    await tx.unsafe(`GRANT USAGE ON SCHEMA anon TO ${r}`);
    await tx.unsafe(`GRANT SELECT ON ALL TABLES IN SCHEMA anon TO ${r}`);
  });
}

/** Opens the masked branch database to its role (and only to it). */
export async function grantAccess(admin: DataPlaneSql, database: string, role: string): Promise<void> {
  const r = quoteIdent(role);
  await admin.unsafe(`ALTER DATABASE ${quoteIdent(database)} OWNER TO ${r}`);
  await admin.unsafe(`GRANT CONNECT, TEMPORARY ON DATABASE ${quoteIdent(database)} TO ${r}`);
}
