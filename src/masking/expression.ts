// Masking expressions under the real PostgreSQL parser (libpg-query): parsed
// the way the engine embeds them, then walked node by node against the
// allow-lists of functions.ts. Used by validate.ts for every rule.
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
import type { TableInfo } from "./types.ts";
import { BoundedMap } from "../lib/bounded-map.ts";

/** Longest accepted expression: real rules are short, and the parser recurses. */
export const MAX_EXPRESSION_LENGTH = 10_000;

let parserReady: Promise<void> | null = null;
export function ensureParser(): Promise<void> {
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
export function trimSql(text: string): string {
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

/** Distinct expression texts whose parse trees are kept (a create validates the same rules each time). */
const parsedTrees = new BoundedMap<string, { tree: unknown } | { error: string }>(2000);

/** The parser's tree for a text, or its error; kept for texts seen before. Trees are only read, never changed. */
function parseTree(text: string): { tree: unknown } | { error: string } {
  let parsed = parsedTrees.get(text);
  if (!parsed) {
    try {
      parsed = { tree: parseSync(text) };
    } catch (error) {
      parsed = { error: error instanceof Error ? error.message : String(error) };
    }
    parsedTrees.set(text, parsed);
  }
  return parsed;
}

export function parseSyncExpression(raw: string, what: string): ParsedExpression {
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
  // Exactly the engine's wrapping: a trailing "--" comment or an unbalanced
  // parenthesis cannot reach past the closing line.
  const parsed = parseTree(`SELECT (\n${expr}\n)`);
  if ("error" in parsed) return { ok: false, error: `${what} does not parse: ${parsed.error}` };
  const tree = parsed.tree;
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

export interface WalkContext {
  table: TableInfo | null; // null when the rule's table is unknown: columns are not checked
  problems: Set<string>;
  calls: { schema: string | null; name: string; columnArg: boolean }[];
  columnRefs: number;
  /** Names of the rule's table's columns the expression reads. */
  columnsRead: Set<string>;
}

export function suggestion(name: string, candidates: Iterable<string>): string {
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
    return;
  }
  ctx.columnsRead.add(column);
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
export function walk(node: unknown, ctx: WalkContext): void {
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
export function nonConstant(node: unknown, ctx: WalkContext): string | null {
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

// ------------------------------------------------------------ close matches

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
