// Reads a bounded sample of values from a parent database, for the
// sensitive-column scan. Bounds: one query per table, at most
// MAX_SAMPLE_ROWS rows (TABLESAMPLE SYSTEM on big tables so only a few pages
// are touched, LIMIT always), cells cut to a length that keeps one table's
// sample within SAMPLE_BYTES_PER_TABLE. Each table is read in its own short
// read-only transaction with a pinned search_path and timeouts, over one
// connection that is closed at once (an idle session on a parent blocks
// CREATE DATABASE … TEMPLATE).
import { quoteIdent, quoteQualified } from "../lib/sql-quote.ts";
import { describeError, withDataPlane } from "./connection.ts";

export const MAX_SAMPLE_ROWS = 1000;
/** Tables estimated above this many rows are sampled by pages (TABLESAMPLE). */
const TABLESAMPLE_ABOVE = 4 * MAX_SAMPLE_ROWS;
const SAMPLE_BYTES_PER_TABLE = 8 * 1024 * 1024;

export type SampleKind = "text" | "json" | "numeric";

export interface SampleTarget {
  schema: string;
  table: string;
  columns: { name: string; kind: SampleKind }[];
}

export interface TableSample {
  schema: string;
  table: string;
  /** Rows the query returned (≤ MAX_SAMPLE_ROWS). */
  rows: number;
  /** Column name → its sampled values, in row order (null = SQL NULL). */
  values: Map<string, (string | null)[]>;
}

export interface SampleReport {
  tables: { schema: string; table: string; rows: number; method: "tablesample" | "limit" }[];
  skipped: { schema: string; table: string; reason: string }[];
}

/** Which columns are worth reading, by type: text-like, JSON, addresses, big numbers. */
export function sampleKindOf(dataType: string): SampleKind | null {
  if (/^(json|jsonb)$/.test(dataType)) return "json";
  if (/^(text|character varying|character|varchar|citext|bpchar|inet|cidr|macaddr)\b/.test(dataType)) return "text";
  if (/^(bigint|numeric)\b/.test(dataType)) return "numeric";
  return null;
}

/**
 * Samples each target table of `database` and hands each table's sample to
 * `inspect` before reading the next, so only one table's values are ever held.
 */
export async function sampleTables(
  sourceUri: string,
  database: string,
  targets: SampleTarget[],
  inspect: (sample: TableSample) => void,
): Promise<SampleReport> {
  const report: SampleReport = { tables: [], skipped: [] };
  if (targets.length === 0) return report;
  await withDataPlane(sourceUri, database, async (sql) => {
    for (const target of targets) {
      try {
        await sql.begin("read only", async (tx) => {
          await tx.unsafe("SET LOCAL search_path = pg_catalog, pg_temp");
          await tx.unsafe("SET LOCAL statement_timeout = '15s'");
          await tx.unsafe("SET LOCAL lock_timeout = '2s'");
          const relation = quoteQualified(target.schema, target.table);
          const [estimate] = await tx.unsafe<{ rows: number }[]>(
            `SELECT GREATEST(c.reltuples, 0)::pg_catalog.float8 AS rows FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.regclass`,
            [relation],
          );
          const estimated = Number(estimate?.rows ?? 0);
          const method = estimated > TABLESAMPLE_ABOVE ? "tablesample" : "limit";
          // Twice the rows we need, so a page-level sample of uneven pages still fills the LIMIT.
          const percent = Math.min(100, (200 * MAX_SAMPLE_ROWS) / Math.max(estimated, 1));
          const cell = Math.max(256, Math.min(8192, Math.floor(SAMPLE_BYTES_PER_TABLE / (target.columns.length * MAX_SAMPLE_ROWS))));
          const list = target.columns
            .map((c, i) => `pg_catalog.left(${quoteIdent(c.name)}::pg_catalog.text, ${cell}) AS c${i}`)
            .join(", ");
          const from = method === "tablesample" ? `${relation} TABLESAMPLE SYSTEM (${percent.toFixed(6)})` : relation;
          const rows = await tx.unsafe<Record<string, string | null>[]>(`SELECT ${list} FROM ${from} LIMIT ${MAX_SAMPLE_ROWS}`);
          const values = new Map(target.columns.map((c, i) => [c.name, rows.map((r) => r[`c${i}`] ?? null)]));
          inspect({ schema: target.schema, table: target.table, rows: rows.length, values });
          report.tables.push({ schema: target.schema, table: target.table, rows: rows.length, method });
        });
      } catch (error) {
        // Permission denied, a lock held too long, a timeout: say so, go on with the next table.
        report.skipped.push({ schema: target.schema, table: target.table, reason: describeError(error) });
      }
    }
  });
  return report;
}
