// How each masked table of a branch database is masked.
//
// The rules are PostgreSQL Anonymizer labels and anon.pg_masking_rules is the
// source of truth for their expressions (labels set over SQL included). Two
// ways to apply them:
//  - rewrite: one ALTER TABLE … ALTER COLUMN c TYPE <its type> USING (<mask>)
//    per table — one pass that writes a new heap and rebuilds its indexes:
//    no dead tuple holds an original, no trigger or rule fires, UNIQUE and
//    CHECK are enforced on the new rows;
//  - anon: anon.anonymize_table() (an UPDATE, user triggers and rules off),
//    then VACUUM FULL — PostgreSQL Anonymizer's own procedure, for the tables
//    ALTER … TYPE cannot rewrite (a column used by a view, a rule, a policy,
//    a trigger's WHEN, a generated column or a publication; a column a foreign
//    key references or that is one; partitioned, inherited and typed tables).
// Anything the catalog check misses falls back to the anon path at run time
// (src/dataplane/anonymize.ts), with PostgreSQL's error as the reason.
import type { Queryable } from "./connection.ts";

export type MaskingStrategy = "auto" | "anon";
export type MaskingPath = "rewrite" | "anon";

export interface ColumnMask {
  name: string;
  attnum: number;
  /** format_type() of the column: the rewrite keeps it. */
  type: string;
  /** The label's expression, as anon.pg_masking_rules reads it. */
  expression: string;
}

export interface TablePlan {
  oid: number;
  schema: string;
  table: string;
  columns: ColumnMask[];
  path: MaskingPath;
  /** Why the anon path, when it is. */
  reason: string | null;
}

interface RuleRow {
  oid: number;
  schema: string;
  table: string;
  relkind: string;
  typed: boolean;
  inherits: boolean;
  column: string;
  attnum: number;
  type: string;
  expression: string;
  generated: boolean;
}

interface BlockerRow {
  oid: number;
  attnum: number;
  what: string;
}

// Objects whose definition uses a column, which ALTER COLUMN … TYPE refuses to
// carry over: views, materialized views and rules (pg_rewrite), policies,
// triggers' WHEN clauses, generated columns (pg_attrdef) and publication
// filters. Foreign keys on either side are found from pg_constraint.
const BLOCKERS = `
SELECT d.refobjid::int AS oid, d.refobjsubid::int AS attnum,
       CASE d.classid
         WHEN 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN
           (SELECT CASE WHEN rw.rulename = '_RETURN'
                        THEN (CASE rc.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END) || rc.oid::pg_catalog.regclass::text
                        ELSE 'rule ' || rw.rulename::text || ' on ' || rc.oid::pg_catalog.regclass::text END
              FROM pg_catalog.pg_rewrite rw JOIN pg_catalog.pg_class rc ON rc.oid = rw.ev_class WHERE rw.oid = d.objid)
         WHEN 'pg_catalog.pg_policy'::pg_catalog.regclass THEN
           (SELECT 'policy ' || p.polname::text FROM pg_catalog.pg_policy p WHERE p.oid = d.objid)
         WHEN 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN
           (SELECT 'trigger ' || t.tgname::text FROM pg_catalog.pg_trigger t WHERE t.oid = d.objid)
         WHEN 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN
           (SELECT 'generated column ' || a.attname::text FROM pg_catalog.pg_attrdef ad
              JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum WHERE ad.oid = d.objid)
         ELSE 'publication ' || d.objid::text
       END AS what
  FROM pg_catalog.pg_depend d
 WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
   AND d.refobjid = ANY($1::oid[]) AND d.refobjsubid > 0
   AND d.classid IN ('pg_catalog.pg_rewrite'::pg_catalog.regclass, 'pg_catalog.pg_policy'::pg_catalog.regclass,
                     'pg_catalog.pg_trigger'::pg_catalog.regclass, 'pg_catalog.pg_attrdef'::pg_catalog.regclass,
                     'pg_catalog.pg_publication_rel'::pg_catalog.regclass)
UNION ALL
SELECT con.confrelid::int, k.attnum::int, 'foreign key ' || con.conname::text || ' of ' || con.conrelid::pg_catalog.regclass::text
  FROM pg_catalog.pg_constraint con, pg_catalog.unnest(con.confkey) AS k(attnum)
 WHERE con.contype = 'f' AND con.confrelid = ANY($1::oid[])
UNION ALL
SELECT con.conrelid::int, k.attnum::int, 'its foreign key ' || con.conname::text
  FROM pg_catalog.pg_constraint con, pg_catalog.unnest(con.conkey) AS k(attnum)
 WHERE con.contype = 'f' AND con.conrelid = ANY($1::oid[])`;

/** Every table with masked columns, with the path it takes and why. */
export async function planMasking(db: Queryable, strategy: MaskingStrategy): Promise<TablePlan[]> {
  const rows = (await db.unsafe(`
    SELECT r.attrelid::int AS oid, n.nspname::text AS schema, c.relname::text AS table, c.relkind::text AS relkind,
           c.reloftype <> 0 AS typed,
           EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid OR i.inhparent = c.oid) AS inherits,
           a.attname::text AS column, a.attnum::int AS attnum,
           pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
           COALESCE(r.masking_function, r.masking_value) AS expression,
           a.attgenerated <> '' AS generated
      FROM anon.pg_masking_rules r
      JOIN pg_catalog.pg_class c ON c.oid = r.attrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_attribute a ON a.attrelid = r.attrelid AND a.attnum = r.attnum
     WHERE c.relkind IN ('r', 'p')
     ORDER BY 2, 3, a.attnum`)) as unknown as RuleRow[];
  const byTable = new Map<number, { first: RuleRow; columns: ColumnMask[] }>();
  for (const r of rows) {
    const entry = byTable.get(r.oid) ?? { first: r, columns: [] };
    entry.columns.push({ name: r.column, attnum: r.attnum, type: r.type, expression: r.expression });
    byTable.set(r.oid, entry);
  }
  const oids = [...byTable.keys()];
  const blockers = oids.length === 0 ? [] : ((await db.unsafe(BLOCKERS, [oids])) as unknown as BlockerRow[]);
  return [...byTable.values()].map(({ first, columns }) => {
    const masked = new Map(columns.map((c) => [c.attnum, c.name]));
    const generated = rows.find((r) => r.oid === first.oid && r.generated);
    const uses = blockers.filter((b) => b.oid === first.oid && masked.has(b.attnum));
    const reason =
      strategy === "anon" ? "ANONBRANCH_MASKING_STRATEGY=anon"
      : first.relkind === "p" ? "partitioned table"
      : first.inherits ? "table in an inheritance tree"
      : first.typed ? "typed table (OF type)"
      : generated ? `generated column ${generated.column}`
      : uses.length > 0 ? `column ${masked.get(uses[0]!.attnum)} is used by ${uses[0]!.what}`
      : null;
    return { oid: first.oid, schema: first.schema, table: first.table, columns, path: reason ? "anon" : "rewrite", reason };
  });
}
