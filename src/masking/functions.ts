// The allow-list for masking expressions: which functions, cast target types
// and operators an API user may put in a rule that a superuser later runs.
// Kept deliberately small; every entry must be free of side effects and unable
// to read anything but its arguments.

/** anon function families that mask data (anon.fake_email, anon.pseudo_first_name, …). */
export const ANON_FUNCTION_PATTERN = /^(fake|pseudo|random|dummy|generalize)_[a-z0-9_]+$/;

/** Further anon masking functions outside those families. */
export const ANON_FUNCTIONS: readonly string[] = [
  "partial",
  "partial_email",
  "hash",
  "digest",
  "noise",
  "dnoise",
  "lorem_ipsum",
];

/** Harmless pg_catalog functions, callable qualified (pg_catalog.x) or not. */
export const PG_CATALOG_FUNCTIONS: readonly string[] = [
  "concat", "concat_ws", "md5", "lower", "upper", "substr", "substring", "left", "right",
  "replace", "coalesce", "nullif", "greatest", "least", "trim", "btrim", "ltrim", "rtrim",
  "length", "char_length", "lpad", "rpad", "repeat", "initcap", "split_part", "to_char",
  "date_trunc", "round", "floor", "ceil", "abs", "now", "random", "gen_random_uuid", "make_date",
];

/**
 * Built-in scalar types a value may be cast to. The parser rewrites SQL-standard
 * spellings (integer, double precision, timestamp with time zone, …) to
 * pg_catalog.int4, pg_catalog.float8, pg_catalog.timestamptz, so both forms are here.
 */
export const ALLOWED_CAST_TYPES: readonly string[] = [
  "text", "varchar", "char", "bpchar",
  "int2", "int4", "int8", "smallint", "integer", "int", "bigint",
  "numeric", "decimal", "real", "float4", "float8", "double precision",
  "bool", "boolean",
  "date", "time", "timetz", "timestamp", "timestamptz", "interval",
  "uuid", "json", "jsonb", "inet", "cidr", "bytea",
];

/** Operators allowed in `a <op> b` / `<op> a` (never OPERATOR(schema.op)). */
export const ALLOWED_OPERATORS: readonly string[] = [
  "+", "-", "*", "/", "%", "||", "=", "<>", "!=", "<", ">", "<=", ">=", "~~",
];

/** The operators the parser uses for [NOT] LIKE / [NOT] ILIKE. */
export const LIKE_OPERATORS: readonly string[] = ["~~", "!~~", "~~*", "!~~*"];

/** Why a parse-tree node kind is refused (others get a generic message). */
export const REFUSED_NODES: Readonly<Record<string, string>> = {
  SubLink: "sub-queries are not allowed",
  ParamRef: "parameters ($1, $2, …) are not allowed",
  RowExpr: "row constructors (ROW(…)) are not allowed",
  CollateClause: "COLLATE is not allowed",
  A_Indirection: "subscripts and field selections are not allowed",
  GroupingFunc: "GROUPING() is not allowed",
  NamedArgExpr: "named arguments (name => value) are not allowed",
  XmlExpr: "XML expressions are not allowed",
  XmlSerialize: "XML expressions are not allowed",
  SetToDefault: "DEFAULT is not allowed",
};

/** Why an A_Expr kind is refused. */
export const REFUSED_A_EXPR: Readonly<Record<string, string>> = {
  AEXPR_OP_ANY: "ANY(…) comparisons are not allowed",
  AEXPR_OP_ALL: "ALL(…) comparisons are not allowed",
  AEXPR_DISTINCT: "IS DISTINCT FROM is not allowed",
  AEXPR_NOT_DISTINCT: "IS NOT DISTINCT FROM is not allowed",
  AEXPR_SIMILAR: "SIMILAR TO is not allowed",
};

/** A_Expr kinds allowed besides AEXPR_OP and [I]LIKE, whose operators are checked. */
export const ALLOWED_A_EXPR_KINDS: ReadonlySet<string> = new Set([
  "AEXPR_NULLIF", "AEXPR_IN", "AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN", "AEXPR_BETWEEN_SYM", "AEXPR_NOT_BETWEEN_SYM",
]);

const anonFunctions = new Set(ANON_FUNCTIONS);
const pgFunctions = new Set(PG_CATALOG_FUNCTIONS);
const castTypes = new Set(ALLOWED_CAST_TYPES);
const operators = new Set(ALLOWED_OPERATORS);

/**
 * Whether a function may be called from a masking expression. `schema` is null
 * for an unqualified name: the engine runs masking with search_path = '', so
 * an unqualified name can only resolve to pg_catalog.
 */
export function isAllowedFunction(schema: string | null, name: string): boolean {
  if (schema === "anon") return ANON_FUNCTION_PATTERN.test(name) || anonFunctions.has(name);
  if (schema === null || schema === "pg_catalog") return pgFunctions.has(name);
  return false;
}

/** Whether `::type` may name this type (schema null = unqualified). */
export function isAllowedCastType(schema: string | null, name: string): boolean {
  return (schema === null || schema === "pg_catalog") && castTypes.has(name);
}

/** Whether an unqualified binary or prefix operator is allowed. */
export function isAllowedOperator(name: string): boolean {
  return operators.has(name);
}

/** One-line description of the function allow-list, for error messages. */
export function describeAllowedFunctions(): string {
  return (
    "anon.* masking functions (fake_*, pseudo_*, random_*, dummy_*, generalize_*, " +
    `${ANON_FUNCTIONS.join(", ")}) or one of pg_catalog.${PG_CATALOG_FUNCTIONS.join(", ")}`
  );
}
