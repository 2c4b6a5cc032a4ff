// Reads the tables, columns, keys and unique sets of one database in a single
// catalog query, so rule validation can name what exists.
import type postgres from "postgres";
import type { ColumnInfo, DatabaseCatalog, TableInfo } from "./types.ts";

interface CatalogRow {
  schema: string;
  name: string;
  relkind: string;
  columns: unknown;
  uniques: unknown;
  fks: unknown;
}

// Everything is pg_catalog-qualified: the caller's search_path is not trusted.
// User schemas = not pg_* (pg_catalog, pg_toast*, pg_temp*), not
// information_schema, not the extension's own schema anon.
// Unique sets come from pg_index (which covers PRIMARY KEY and UNIQUE
// constraints as well as bare unique indexes); INCLUDE columns are not key
// columns, and expression indexes (attnum 0) cannot be named as columns.
const CATALOG_QUERY = `
SELECT n.nspname::text AS schema,
       c.relname::text AS name,
       c.relkind::text AS relkind,
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_array(
                 a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull)
               ORDER BY a.attnum)
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_array(
                 ic.relname::text, i.indisprimary,
                 (SELECT pg_catalog.json_agg(a.attname::text ORDER BY k.ord)
                    FROM pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                   WHERE k.ord <= i.indnkeyatts))
               ORDER BY NOT i.indisprimary, ic.relname)
          FROM pg_catalog.pg_index i
          JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = c.oid AND i.indisunique
           AND NOT (0 = ANY (i.indkey::pg_catalog.int2[]))) AS uniques,
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_array(
                 con.conname::text, rn.nspname::text, rc.relname::text,
                 (SELECT pg_catalog.json_agg(a.attname::text ORDER BY k.ord)
                    FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
                 (SELECT pg_catalog.json_agg(a.attname::text ORDER BY k.ord)
                    FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum))
               ORDER BY con.conname)
          FROM pg_catalog.pg_constraint con
          JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
          JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
         WHERE con.conrelid = c.oid AND con.contype = 'f') AS fks
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname !~ '^pg_'
   AND n.nspname NOT IN ('information_schema', 'anon')
 ORDER BY 1, 2`;

// postgres.js parses json by default, but a client configured without its
// type parsers hands back text: accept both.
function json(value: unknown): unknown[] {
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed : [];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function toTable(row: CatalogRow): TableInfo {
  const columns: ColumnInfo[] = json(row.columns).map((c) => {
    const [name, dataType, notNull] = Array.isArray(c) ? c : [];
    return { name: String(name), dataType: String(dataType), notNull: notNull === true };
  });
  const uniqueConstraints = json(row.uniques).map((u) => {
    const [name, primary, cols] = Array.isArray(u) ? u : [];
    return { name: String(name), primary: primary === true, columns: strings(cols) };
  });
  const foreignKeys = json(row.fks).map((f) => {
    const [name, refSchema, refTable, cols, refCols] = Array.isArray(f) ? f : [];
    return {
      name: String(name),
      refSchema: String(refSchema),
      refTable: String(refTable),
      columns: strings(cols),
      refColumns: strings(refCols),
    };
  });
  return {
    schema: row.schema,
    name: row.name,
    kind: row.relkind === "p" ? "partitioned table" : "table",
    columns,
    primaryKey: uniqueConstraints.find((u) => u.primary)?.columns ?? [],
    uniqueColumnSets: uniqueConstraints.map((u) => u.columns),
    uniqueConstraints,
    foreignKeys,
  };
}

/** The user tables of the database `sql` is connected to, labelled `database`. */
export async function introspectDatabase(sql: postgres.Sql, database: string): Promise<DatabaseCatalog> {
  const rows = await sql.unsafe<CatalogRow[]>(CATALOG_QUERY);
  return { database, tables: rows.map(toTable) };
}
