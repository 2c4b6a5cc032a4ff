// The one place where SQL text is built from names and values that come from
// users or from the data plane. Everything else calls these.

/** A PostgreSQL identifier, always double-quoted. */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes("\0")) throw new Error("invalid identifier");
  return `"${name.replaceAll('"', '""')}"`;
}

/** schema.table, both quoted. */
export function quoteQualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** A string literal, safe whatever standard_conforming_strings says. */
export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw new Error("invalid literal");
  const escaped = value.replaceAll("'", "''");
  return value.includes("\\") ? `E'${escaped.replaceAll("\\", "\\\\")}'` : `'${escaped}'`;
}
