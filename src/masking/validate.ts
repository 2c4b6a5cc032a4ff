// Validation of masking rules submitted by untrusted API users. A superuser
// (the masking engine) later runs these expressions, so anything that is not
// on the allow-list in functions.ts is refused, using the real PostgreSQL
// parser (libpg-query) rather than pattern matching.
import { loadModule, parseSync } from "libpg-query";
import type { A_Expr, ColumnRef, FuncCall, SelectStmt, TypeCast, TypeName } from "libpg-query";
import {
  ALLOWED_A_EXPR_KINDS,
  ALLOWED_CAST_TYPES,
  ALLOWED_OPERATORS,
  ANON_FUNCTION_PATTERN,
  describeAllowedFunctions,
  isAllowedCastType,
  isAllowedFunction,
  isAllowedOperator,
  LIKE_OPERATORS,
  REFUSED_A_EXPR,
  REFUSED_NODES,
} from "./functions.ts";
import type { DatabaseCatalog, MaskingRule, RuleProblem, TableInfo } from "./types.ts";

/** Longest accepted expression: real rules are short, and the parser recurses. */
export const MAX_EXPRESSION_LENGTH = 10_000;

let parserReady: Promise<void> | null = null;
function ensureParser(): Promise<void> {
  parserReady ??= loadModule();
  return parserReady;
}

// ---------------------------------------------------------------- AST access

interface AstNode {
  kind: string;
  body: Record<string, unknown>;
}

/** A libpg-query node is `{ Kind: { ...fields } }`. */
function unwrap(node: unknown): AstNode | null {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return null;
  const keys = Object.keys(node);
  const kind = keys[0];
  if (keys.length !== 1 || kind === undefined) return null;
  const body: unknown = (node as Record<string, unknown>)[kind];
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  return { kind, body: body as Record<string, unknown> };
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The text of a String node, or null for anything else (A_Star, …). */
function stringOf(node: unknown): string | null {
  const n = unwrap(node);
  return n?.kind === "String" && typeof n.body.sval === "string" ? n.body.sval : null;
}

/** Same white space as the engine's skip_space() (C isspace), not JS's Unicode trim. */
function trimSql(text: string): string {
  return text.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, "");
}

// ------------------------------------------------------------------ parsing

export type ParsedExpression = { ok: true; expr: unknown } | { ok: false; error: string };

// Clauses that turn "SELECT (<expr>)" into something more than one expression.
const SELECT_CLAUSES: [keyof SelectStmt, string][] = [
  ["fromClause", "FROM"], ["whereClause", "WHERE"], ["groupClause", "GROUP BY"],
  ["havingClause", "HAVING"], ["windowClause", "WINDOW"], ["sortClause", "ORDER BY"],
  ["limitCount", "LIMIT"], ["limitOffset", "OFFSET"], ["lockingClause", "FOR UPDATE"],
  ["withClause", "WITH"], ["distinctClause", "DISTINCT"], ["intoClause", "INTO"],
  ["valuesLists", "VALUES"],
];

function parseSyncExpression(raw: string, what: string): ParsedExpression {
  const expr = trimSql(raw);
  if (expr === "") return { ok: false, error: `${what} is empty` };
  if (expr.includes("\0")) return { ok: false, error: `${what} must not contain NUL characters` };
  if (expr.length > MAX_EXPRESSION_LENGTH) {
    return { ok: false, error: `${what} is longer than ${MAX_EXPRESSION_LENGTH} characters` };
  }
  // With standard_conforming_strings = off (settable per database by its
  // owner) '\' escapes a quote, so the server would tokenize the text
  // differently from this parser: refuse backslashes altogether.
  if (expr.includes("\\")) {
    return { ok: false, error: `${what} must not contain backslashes (their meaning depends on standard_conforming_strings)` };
  }
  let tree: unknown;
  try {
    // Exactly the engine's wrapping: a trailing "--" comment or an unbalanced
    // parenthesis cannot reach past the closing line.
    tree = parseSync(`SELECT (\n${expr}\n)`);
  } catch (error) {
    return { ok: false, error: `${what} does not parse: ${error instanceof Error ? error.message : String(error)}` };
  }
  const stmts = list((tree as { stmts?: unknown }).stmts);
  if (stmts.length !== 1) return { ok: false, error: `${what} must be a single expression, not several statements` };
  const stmt = unwrap((stmts[0] as { stmt?: unknown }).stmt);
  if (stmt?.kind !== "SelectStmt") return { ok: false, error: `${what} must be a single expression` };
  const select = stmt.body as SelectStmt;
  if (select.op !== undefined && select.op !== "SETOP_NONE") {
    return { ok: false, error: `${what} must be a single expression (found UNION/INTERSECT/EXCEPT)` };
  }
  for (const [key, label] of SELECT_CLAUSES) {
    const value = select[key];
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
      return { ok: false, error: `${what} must be a single expression (found ${label})` };
    }
  }
  const targets = list(select.targetList);
  if (targets.length !== 1) return { ok: false, error: `${what} must be a single expression, not a list of ${targets.length}` };
  const target = unwrap(targets[0]);
  if (target?.kind !== "ResTarget") return { ok: false, error: `${what} must be a single expression` };
  if (target.body.name !== undefined || target.body.indirection !== undefined) {
    return { ok: false, error: `${what} must be a single expression without an alias` };
  }
  return { ok: true, expr: target.body.val };
}

/** Parses one masking expression the way the engine embeds it. */
export async function parseMaskingExpression(expr: string, what = "the expression"): Promise<ParsedExpression> {
  await ensureParser();
  return parseSyncExpression(expr, what);
}

// ------------------------------------------------------------ expression walk

interface WalkContext {
  table: TableInfo | null; // null when the rule's table is unknown: columns are not checked
  problems: Set<string>;
  calls: { schema: string | null; name: string; columnArg: boolean }[];
  columnRefs: number;
}

function suggestion(name: string, candidates: Iterable<string>): string {
  const match = closeMatch(name, candidates);
  return match === null ? "" : ` (did you mean "${match}"?)`;
}

function checkColumnRef(ref: ColumnRef, ctx: WalkContext): void {
  ctx.columnRefs++;
  const fields = list(ref.fields);
  const parts = fields.map(stringOf);
  if (parts.some((p) => p === null)) {
    ctx.problems.add("* is not allowed; name the column");
    return;
  }
  const names = parts as string[];
  const table = ctx.table;
  let column = names[0] ?? "";
  if (names.length === 2) {
    if (table && names[0] !== table.name) {
      ctx.problems.add(`column reference ${names.join(".")} is not allowed; masking expressions may only use columns of ${table.name}`);
      return;
    }
    column = names[1] ?? "";
  } else if (names.length !== 1) {
    ctx.problems.add(`column reference ${names.join(".")} is not allowed; use a column name of the table`);
    return;
  }
  if (table && !table.columns.some((c) => c.name === column)) {
    const candidates = table.columns.map((c) => c.name);
    ctx.problems.add(`column "${column}" does not exist in table ${table.name}${suggestion(column, candidates)}`);
  }
}

function checkFuncCall(call: FuncCall, ctx: WalkContext): void {
  const parts = list(call.funcname).map(stringOf);
  const display = parts.map((p) => p ?? "?").join(".");
  const name = parts[parts.length - 1] ?? "";
  const schema = parts.length >= 2 ? (parts[parts.length - 2] ?? null) : null;
  if (call.agg_star) ctx.problems.add(`${display}(*) is not allowed; aggregates are not masking functions`);
  if (call.agg_distinct || call.agg_order || call.agg_filter || call.agg_within_group) {
    ctx.problems.add(`aggregate syntax (DISTINCT, ORDER BY, FILTER, WITHIN GROUP) is not allowed in ${display}()`);
  }
  if (call.over) ctx.problems.add(`window functions (OVER) are not allowed: ${display}()`);
  if (call.func_variadic) ctx.problems.add(`VARIADIC is not allowed in ${display}()`);
  if (parts.length > 2 || parts.some((p) => p === null) || !isAllowedFunction(schema, name)) {
    const hint = schema === null && (ANON_FUNCTION_PATTERN.test(name) || isAllowedFunction("anon", name))
      ? ` (did you mean anon.${name}?)` : "";
    ctx.problems.add(`function ${display} is not allowed${hint}; masking functions must be ${describeAllowedFunctions()}`);
  }
  const before = ctx.columnRefs;
  for (const arg of list(call.args)) walk(arg, ctx);
  ctx.calls.push({ schema, name, columnArg: ctx.columnRefs > before });
}

function checkTypeName(type: TypeName | undefined, ctx: WalkContext): void {
  const parts = list(type?.names).map(stringOf);
  const display = parts.map((p) => p ?? "?").join(".");
  const name = parts[parts.length - 1] ?? "";
  const schema = parts.length === 2 ? (parts[0] ?? null) : null;
  if (!type || type.setof || type.pct_type || parts.length === 0 || parts.length > 2 ||
      parts.some((p) => p === null) || !isAllowedCastType(schema, name)) {
    ctx.problems.add(`cast to ${display} is not allowed; allowed types: ${ALLOWED_CAST_TYPES.join(", ")}`);
  }
  for (const mod of list(type?.typmods)) {
    if (unwrap(mod)?.kind !== "A_Const") ctx.problems.add("type modifiers must be constants");
  }
}

function checkAExpr(expr: A_Expr, ctx: WalkContext): void {
  const kind = expr.kind ?? "";
  const names = list(expr.name).map(stringOf);
  const op = names.length === 1 ? names[0] ?? null : null;
  if (kind === "AEXPR_OP") {
    if (op === null) ctx.problems.add("OPERATOR(schema.op) syntax is not allowed");
    else if (!isAllowedOperator(op)) {
      ctx.problems.add(`operator ${op} is not allowed; allowed operators: ${ALLOWED_OPERATORS.join(" ")} AND OR NOT LIKE ILIKE`);
    }
  } else if (kind === "AEXPR_LIKE" || kind === "AEXPR_ILIKE") {
    if (op === null || !LIKE_OPERATORS.includes(op)) ctx.problems.add("this form of LIKE is not allowed");
  } else if (!ALLOWED_A_EXPR_KINDS.has(kind)) {
    ctx.problems.add(REFUSED_A_EXPR[kind] ?? `${kind} expressions are not allowed`);
    return;
  }
  walk(expr.lexpr, ctx);
  walk(expr.rexpr, ctx);
}

/** Walks a masking_function expression, recording every refused construct. */
function walk(node: unknown, ctx: WalkContext): void {
  if (node === undefined || node === null) return;
  const n = unwrap(node);
  if (n === null) {
    ctx.problems.add("the expression contains something the validator does not recognise");
    return;
  }
  const b = n.body;
  switch (n.kind) {
    case "A_Const":
    case "SQLValueFunction": // CURRENT_DATE, CURRENT_TIMESTAMP, …: no arguments
      return;
    case "ColumnRef":
      return checkColumnRef(b as ColumnRef, ctx);
    case "FuncCall":
      return checkFuncCall(b as FuncCall, ctx);
    case "TypeCast":
      checkTypeName((b as TypeCast).typeName, ctx);
      return walk(b.arg, ctx);
    case "A_Expr":
      return checkAExpr(b as A_Expr, ctx);
    case "BoolExpr":
    case "CoalesceExpr":
    case "MinMaxExpr":
      for (const arg of list(b.args)) walk(arg, ctx);
      return;
    case "CaseExpr":
      walk(b.arg, ctx);
      for (const arg of list(b.args)) walk(arg, ctx);
      return walk(b.defresult, ctx);
    case "CaseWhen":
      walk(b.expr, ctx);
      return walk(b.result, ctx);
    case "NullTest":
    case "BooleanTest":
      return walk(b.arg, ctx);
    case "A_ArrayExpr":
      for (const element of list(b.elements)) walk(element, ctx);
      return;
    case "List":
      for (const item of list(b.items)) walk(item, ctx);
      return;
    default:
      ctx.problems.add(REFUSED_NODES[n.kind] ?? `${n.kind} is not allowed in a masking expression`);
  }
}

/** What a masking_value is when it is not a constant, or null when it is one. */
function nonConstant(node: unknown, ctx: WalkContext): string | null {
  const n = unwrap(node);
  if (n === null) return "an unrecognised expression";
  if (n.kind === "A_Const") return null;
  if (n.kind === "TypeCast") {
    checkTypeName((n.body as TypeCast).typeName, ctx);
    return nonConstant(n.body.arg, ctx);
  }
  if (n.kind === "A_Expr") {
    // -1.5 is usually folded into the constant, but not always (e.g. - '1')
    const e = n.body as A_Expr;
    const op = list(e.name).map(stringOf);
    if (e.kind === "AEXPR_OP" && e.lexpr === undefined && op.length === 1 && op[0] === "-") return nonConstant(e.rexpr, ctx);
    return "an operator expression";
  }
  if (n.kind === "FuncCall") return `a function call (${list((n.body as FuncCall).funcname).map(stringOf).join(".")}())`;
  if (n.kind === "ColumnRef") return `a column reference (${list((n.body as ColumnRef).fields).map((f) => stringOf(f) ?? "*").join(".")})`;
  return REFUSED_NODES[n.kind]?.replace(/ (is|are) not allowed$/, "") ?? n.kind;
}

// --------------------------------------------------------------- rule checks

export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The candidate equal ignoring case, else the nearest within edit distance 2. */
export function closeMatch(name: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    if (candidate.toLowerCase() === name.toLowerCase()) return candidate;
    const distance = levenshtein(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

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

function validateRule(
  rule: MaskingRule, index: number, catalogs: Record<string, DatabaseCatalog>,
  seen: Map<string, number>, out: RuleProblem[],
): void {
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
  const ctx: WalkContext = { table, problems: new Set(), calls: [], columnRefs: 0 };
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
  if (!columnOk || !table) return;
  const t = table;

  // f. foreign-key columns: Neon refuses them; the referenced key is masked instead
  const fk = t.foreignKeys.find((f) => f.columns.includes(column));
  if (fk) {
    const refColumn = fk.refColumns[fk.columns.indexOf(column)] ?? fk.refColumns.join(", ");
    const refTable = fk.refSchema === t.schema ? fk.refTable : `${fk.refSchema}.${fk.refTable}`;
    const target = catalogs[db]?.tables.find((x) => x.schema === fk.refSchema && x.name === fk.refTable);
    const isPk = target !== undefined && target.primaryKey.join() === fk.refColumns.join();
    add("column_name", `column ${tableName}.${column} references ${refTable}(${fk.refColumns.join(", ")}) through foreign key ${fk.name}; ` +
      `mask the referenced ${isPk ? "primary key" : "key"} ${refTable}.${refColumn} instead`);
    return;
  }

  // g. a single-column UNIQUE / PRIMARY KEY needs a generator that keeps values distinct
  if (!expressionOk) return;
  const unique = t.uniqueColumnSets.some((s) => s.length === 1 && s[0] === column);
  if (!unique || (hasFunction && isUniqueSafe(ctx.calls))) return;
  const named = t.uniqueConstraints?.find((u) => u.columns.length === 1 && u.columns[0] === column);
  const isPk = t.primaryKey.length === 1 && t.primaryKey[0] === column;
  const what = `${isPk ? "the PRIMARY KEY" : "UNIQUE"}${named ? ` (${named.name})` : ""}`;
  const dataType = t.columns.find((c) => c.name === column)?.dataType ?? "";
  const generator = dataType === "uuid" ? "anon.dummy_uuidv4()"
    : TEXT_TYPES.test(dataType) ? "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')"
    : `anon.hash(${column}) in a column type that can hold it`;
  const repeats = hasFunction ? `${trimSql(text)} can repeat values` : `the constant ${trimSql(text)} gives every row the same value`;
  add(field, `column ${tableName}.${column} is ${what} and ${repeats}; use a unique generator such as ${generator}`);
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
  rules.forEach((rule, index) => validateRule(rule, index, catalogs, seen, problems));
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
