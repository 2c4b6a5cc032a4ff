// Masked rows of one table, computed without changing anything: the branch's
// validated rules applied in a SELECT, in a read-only transaction, in a
// masker session (src/dataplane/sessions.ts) — never as superuser, and with
// search_path pinned, like the masking run itself.
import { quoteIdent, quoteQualified } from "../lib/sql-quote.ts";
import type { MaskingRule } from "../masking/types.ts";
import { SAFE_SEARCH_PATH, type DataPlaneSql } from "./connection.ts";

export interface PreviewColumn {
  name: string;
  type: string;
  masked: boolean;
  masking_function?: string;
  masking_value?: string;
}

export interface TablePreview {
  columns: PreviewColumn[];
  rows: Record<string, unknown>[];
}

export class TableNotFound extends Error {}

/**
 * `rules` are the table's (validated) rules. Columns without one come back as
 * they are — exactly what the branch will show. Each statement is bounded by
 * a timeout; values come back as JSON.
 */
export async function previewTable(
  masker: DataPlaneSql,
  schema: string,
  table: string,
  rules: MaskingRule[],
  limit: number,
): Promise<TablePreview> {
  return masker.begin("READ ONLY", async (tx) => {
    await tx.unsafe(`SET LOCAL search_path = ${SAFE_SEARCH_PATH}`);
    await tx.unsafe("SET LOCAL statement_timeout = '15s'");
    const attributes = (await tx`
      SELECT a.attname::text AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
      FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND c.relname = ${table} AND c.relkind IN ('r', 'p')
        AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`) as unknown as { name: string; type: string }[];
    if (attributes.length === 0) throw new TableNotFound(`table ${schema}.${table} does not exist`);
    const ruleOf = new Map(rules.map((r) => [r.column_name, r]));
    const columns: PreviewColumn[] = attributes.map(({ name, type }) => {
      const r = ruleOf.get(name);
      return {
        name,
        type,
        masked: r !== undefined,
        ...(r?.masking_function ? { masking_function: r.masking_function } : {}),
        ...(r?.masking_value ? { masking_value: r.masking_value } : {}),
      };
    });
    // The same embedding as the engine: the expression on lines of its own, in parentheses.
    const select = columns.map((c) => {
      const r = ruleOf.get(c.name);
      const expression = r ? `(\n${r.masking_function ?? r.masking_value}\n)` : quoteIdent(c.name);
      return `${expression} AS ${quoteIdent(c.name)}`;
    });
    const rows = (await tx.unsafe(
      `SELECT pg_catalog.to_jsonb(p) AS row FROM (SELECT ${select.join(", ")} FROM ${quoteQualified(schema, table)} LIMIT ${limit}) p`,
    )) as unknown as { row: Record<string, unknown> }[];
    return { columns, rows: rows.map((r) => r.row) };
  });
}
