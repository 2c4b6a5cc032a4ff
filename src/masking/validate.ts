// Validation of masking rules submitted by untrusted API users. A superuser
// (the masking engine) later runs these expressions, so anything that is not
// on the allow-list in functions.ts is refused, using the real PostgreSQL
// parser (libpg-query) rather than pattern matching.
import {
  closeMatch,
  ensureParser,
  levenshtein,
  MAX_EXPRESSION_LENGTH,
  nonConstant,
  parseMaskingExpression,
  parseSyncExpression,
  suggestion,
  trimSql,
  walk,
  type ParsedExpression,
  type WalkContext,
} from "./expression.ts";
import type { DatabaseCatalog, MaskingRule, RuleProblem, TableInfo } from "./types.ts";

export { closeMatch, levenshtein, MAX_EXPRESSION_LENGTH, parseMaskingExpression, type ParsedExpression };

const IDENTIFIER_FIELDS = ["database_name", "schema_name", "table_name", "column_name"] as const;
const TEXT_TYPES = /^(text|character varying|character|varchar|bpchar|citext|name)\b/;

function identifierProblem(value: unknown, field: string): string | null {
  if (typeof value !== "string" || value === "") return `${field} must be a non-empty string`;
  if (value.includes("\0")) return `${field} must not contain NUL characters`;
  if (Buffer.byteLength(value, "utf8") > 63) return `${field} "${value}" is longer than 63 bytes, the PostgreSQL identifier limit`;
  return null;
}

/** "present" = a string with something in it; a non-string non-null is an error. */
function given(value: unknown): boolean {
  return typeof value === "string" && trimSql(value) !== "";
}

/** Uniqueness is kept by a fresh UUID per row, or a hash of a (unique) column. */
function isUniqueSafe(calls: WalkContext["calls"]): boolean {
  return calls.some(({ schema, name, columnArg }) =>
    (schema === "anon" && name === "dummy_uuidv4") ||
    ((schema === null || schema === "pg_catalog") && name === "gen_random_uuid") ||
    (columnArg && ((schema === "anon" && (name === "hash" || name === "digest")) ||
      ((schema === null || schema === "pg_catalog") && name === "md5"))));
}

/** Columns (other than its own) a valid rule's expression reads, for the cross-column check. */
type ColumnsRead = Set<string> | null;

function validateRule(
  rule: MaskingRule, index: number, catalogs: Record<string, DatabaseCatalog>,
  seen: Map<string, number>, out: RuleProblem[],
): ColumnsRead {
  const at = `masking_rules[${index}]`;
  const add = (field: string, message: string) =>
    out.push({ index, field: field === "" ? at : `${at}.${field}`, message: `${at}: ${message}` });
  const r = rule as unknown as Record<string, unknown>; // API input: do not trust the static type

  // a. identifiers
  let identifiersOk = true;
  for (const field of IDENTIFIER_FIELDS) {
    const problem = identifierProblem(r[field], field);
    if (problem) {
      identifiersOk = false;
      add(field, problem);
    }
  }
  let table: TableInfo | null = null;
  let columnOk = false;
  const { database_name: db, schema_name: schema, table_name: tableName, column_name: column } = rule;
  if (identifiersOk) {
    const catalog = Object.hasOwn(catalogs, db) ? catalogs[db] : undefined;
    const tablesInSchema = catalog?.tables.filter((t) => t.schema === schema) ?? [];
    if (!catalog) {
      add("database_name", `database "${db}" does not exist${suggestion(db, Object.keys(catalogs))}`);
    } else if (tablesInSchema.length === 0) {
      const schemas = new Set(catalog.tables.map((t) => t.schema));
      add("schema_name", `schema "${schema}" does not exist in database ${db} (or has no tables)${suggestion(schema, schemas)}`);
    } else if (!(table = tablesInSchema.find((t) => t.name === tableName) ?? null)) {
      add("table_name", `table "${tableName}" does not exist in schema ${db}.${schema}${suggestion(tableName, tablesInSchema.map((t) => t.name))}`);
    } else if (!table.columns.some((c) => c.name === column)) {
      const names = table.columns.map((c) => c.name);
      add("column_name", `column "${column}" does not exist in table ${db}.${schema}.${tableName}${suggestion(column, names)}`);
    } else {
      columnOk = true;
    }
  }

  // b. exactly one of masking_function / masking_value
  for (const field of ["masking_function", "masking_value"] as const) {
    if (r[field] !== undefined && r[field] !== null && typeof r[field] !== "string") add(field, `${field} must be a string or null`);
  }
  const hasFunction = given(r.masking_function);
  const hasValue = given(r.masking_value);
  if (hasFunction === hasValue) add("", "give exactly one of masking_function or masking_value");

  // c. duplicates
  if (identifiersOk) {
    const key = JSON.stringify([db, schema, tableName, column]);
    const earlier = seen.get(key);
    if (earlier === undefined) seen.set(key, index);
    else add("", `duplicate rule for ${db}.${schema}.${tableName}.${column} (already given by masking_rules[${earlier}])`);
  }

  // d./e. the expression
  let expressionOk = false;
  const ctx: WalkContext = { table, problems: new Set(), calls: [], columnRefs: 0, columnsRead: new Set() };
  const field = hasFunction ? "masking_function" : "masking_value";
  const text = hasFunction ? String(rule.masking_function) : String(rule.masking_value);
  if (hasFunction !== hasValue) {
    const parsed = parseSyncExpression(text, field);
    if (!parsed.ok) {
      add(field, parsed.error);
    } else if (hasFunction) {
      walk(parsed.expr, ctx);
    } else {
      const found = nonConstant(parsed.expr, ctx);
      if (found !== null) {
        ctx.problems.add(`masking_value must be a constant such as 'CONFIDENTIAL', 0 or NULL, not ${found}; use masking_function for expressions`);
      }
    }
    for (const problem of ctx.problems) add(field, problem);
    expressionOk = parsed.ok && ctx.problems.size === 0;
  }
  if (!columnOk || !table) return null;
  const t = table;
  const read = new Set([...ctx.columnsRead].filter((c) => c !== column));

  // f. foreign-key columns: Neon refuses them; the referenced key is masked instead
  const fk = t.foreignKeys.find((f) => f.columns.includes(column));
  if (fk) {
    const refColumn = fk.refColumns[fk.columns.indexOf(column)] ?? fk.refColumns.join(", ");
    const refTable = fk.refSchema === t.schema ? fk.refTable : `${fk.refSchema}.${fk.refTable}`;
    const target = catalogs[db]?.tables.find((x) => x.schema === fk.refSchema && x.name === fk.refTable);
    const isPk = target !== undefined && target.primaryKey.join() === fk.refColumns.join();
    add("column_name", `column ${tableName}.${column} references ${refTable}(${fk.refColumns.join(", ")}) through foreign key ${fk.name}; ` +
      `mask the referenced ${isPk ? "primary key" : "key"} ${refTable}.${refColumn} instead`);
    return null;
  }

  // g. a single-column UNIQUE / PRIMARY KEY needs a generator that keeps values distinct
  if (!expressionOk) return null;
  const unique = t.uniqueColumnSets.some((s) => s.length === 1 && s[0] === column);
  if (!unique || (hasFunction && isUniqueSafe(ctx.calls))) return read;
  const named = t.uniqueConstraints?.find((u) => u.columns.length === 1 && u.columns[0] === column);
  const isPk = t.primaryKey.length === 1 && t.primaryKey[0] === column;
  const what = `${isPk ? "the PRIMARY KEY" : "UNIQUE"}${named ? ` (${named.name})` : ""}`;
  const dataType = t.columns.find((c) => c.name === column)?.dataType ?? "";
  const generator = dataType === "uuid" ? "anon.dummy_uuidv4()"
    : TEXT_TYPES.test(dataType) ? "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')"
    : `anon.hash(${column}) in a column type that can hold it`;
  const repeats = hasFunction ? `${trimSql(text)} can repeat values` : `the constant ${trimSql(text)} gives every row the same value`;
  add(field, `column ${tableName}.${column} is ${what} and ${repeats}; use a unique generator such as ${generator}`);
  return null;
}

const tableKey = (r: MaskingRule): string => JSON.stringify([r.database_name, r.schema_name, r.table_name]);

/**
 * h. A masking statement computes every masked column from the row's original
 * values, so an expression that reads another column copies that column's
 * original into its own: reading a masked column would undo that column's
 * mask. An expression may read its own column and columns left unmasked
 * (whose values the branch shows anyway, e.g. a primary key seeding pseudo_*).
 */
function checkColumnsRead(rules: MaskingRule[], reads: ColumnsRead[], out: RuleProblem[]): void {
  const maskedBy = new Map<string, Map<string, number>>();
  rules.forEach((r, i) => {
    const columns = maskedBy.get(tableKey(r)) ?? new Map<string, number>();
    if (!columns.has(r.column_name)) columns.set(r.column_name, i);
    maskedBy.set(tableKey(r), columns);
  });
  reads.forEach((read, index) => {
    if (!read || read.size === 0) return;
    const rule = rules[index]!;
    const field = typeof rule.masking_function === "string" && trimSql(rule.masking_function) !== "" ? "masking_function" : "masking_value";
    const at = `masking_rules[${index}]`;
    for (const column of read) {
      const other = maskedBy.get(tableKey(rule))?.get(column);
      if (other === undefined) continue;
      out.push({
        index,
        field: `${at}.${field}`,
        message:
          `${at}: the expression for ${rule.table_name}.${rule.column_name} reads column ${rule.table_name}.${column}, which is masked (masking_rules[${other}]); ` +
          `masking computes every column from the row's original values, so this would copy ${column}'s original value into ${rule.column_name}. ` +
          `A masking expression may read only its own column and columns left unmasked`,
      });
    }
  });
}

/**
 * Every problem with a rule set (empty = valid). `catalogs` is keyed by the
 * logical database name used in the rules' database_name.
 */
export async function validateMaskingRules(
  rules: MaskingRule[], catalogs: Record<string, DatabaseCatalog>,
): Promise<RuleProblem[]> {
  await ensureParser();
  const problems: RuleProblem[] = [];
  const seen = new Map<string, number>();
  const reads = rules.map((rule, index) => validateRule(rule, index, catalogs, seen, problems));
  checkColumnsRead(rules, reads, problems);
  return problems;
}

// ------------------------------------------------------------------- labels

/** The security label text for a (validated) rule. */
export function canonicalLabel(rule: MaskingRule): string {
  if (given(rule.masking_function)) return `MASKED WITH FUNCTION ${trimSql(String(rule.masking_function))}`;
  if (given(rule.masking_value)) return `MASKED WITH VALUE ${trimSql(String(rule.masking_value))}`;
  throw new Error("canonicalLabel: the rule has neither masking_function nor masking_value");
}

// Mirrors the engine's keyword matcher: case-insensitive ASCII keywords
// separated by C white space, the last one followed by white space or the end.
const LABEL_PATTERN = /^[ \t\n\v\f\r]*MASKED[ \t\n\v\f\r]+WITH[ \t\n\v\f\r]+(FUNCTION|VALUE)(?:[ \t\n\v\f\r]([\s\S]*))?$/i;

/** Reads a label added over SQL; null for NOT MASKED, other labels or an empty expression. */
export function parseLabel(label: string): { masking_function?: string; masking_value?: string } | null {
  const match = LABEL_PATTERN.exec(label);
  const expression = trimSql(match?.[2] ?? "");
  if (!match || expression === "") return null;
  return match[1]?.toUpperCase() === "FUNCTION" ? { masking_function: expression } : { masking_value: expression };
}
