// The Data Masking form ↔ masking rules. Each editable column row posts its
// identity (col.N, JSON), its choice (fn.N) and a custom expression (expr.N);
// the identity travels with the row so a schema change between showing the
// page and applying it can never move a rule onto another column.
import { invalid } from "../lib/errors.ts";
import type { ColumnInfo, DatabaseCatalog, MaskingRule } from "../masking/types.ts";
import { choicesFor, CUSTOM_FUNCTION, CUSTOM_VALUE, maskingChoices, NOT_MASKED, selectionOf } from "./masking-functions.ts";

export type ColumnRef = Pick<MaskingRule, "database_name" | "schema_name" | "table_name" | "column_name">;

export interface Selection {
  choice: string;
  expression: string;
}

/** Rows a form may carry; more is not a masking form. */
const MAX_ROWS = 10_000;

export const columnKey = (r: ColumnRef): string => JSON.stringify([r.database_name, r.schema_name, r.table_name, r.column_name]);

export function findColumn(databases: DatabaseCatalog[], r: ColumnRef): ColumnInfo | undefined {
  return databases
    .find((d) => d.database === r.database_name)
    ?.tables.find((t) => t.schema === r.schema_name && t.name === r.table_name)
    ?.columns.find((c) => c.name === r.column_name);
}

/** What each column's picker shows for a rule set (columns without a rule are "not masked"). */
export function selectionsOf(rules: MaskingRule[], databases: DatabaseCatalog[]): Map<string, Selection> {
  const out = new Map<string, Selection>();
  for (const rule of rules) {
    const column = findColumn(databases, rule);
    if (column) out.set(columnKey(rule), selectionOf(column, rule));
  }
  return out;
}

const text = (value: unknown): string => (typeof value === "string" ? value : "");

function identityOf(raw: string, field: string): ColumnRef {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 4 || !parsed.every((p) => typeof p === "string" && p !== "")) {
    throw invalid(`${field}: not a column of this page; reload it`);
  }
  const [database_name, schema_name, table_name, column_name] = parsed as string[];
  return { database_name: database_name!, schema_name: schema_name!, table_name: table_name!, column_name: column_name! };
}

/** The rule set a submitted form asks for, in page order, and what each row showed. */
export function rulesFromForm(
  form: Record<string, unknown>,
  databases: DatabaseCatalog[],
): { rules: MaskingRule[]; selections: Map<string, Selection> } {
  const rows = Object.keys(form)
    .map((k) => /^col\.(\d{1,6})$/.exec(k)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  if (rows.length > MAX_ROWS) throw invalid(`the form has ${rows.length} columns; at most ${MAX_ROWS} are accepted`);
  const rules: MaskingRule[] = [];
  const selections = new Map<string, Selection>();
  for (const n of rows) {
    const ref = identityOf(text(form[`col.${n}`]), `col.${n}`);
    const choice = text(form[`fn.${n}`]) || NOT_MASKED;
    const expression = text(form[`expr.${n}`]).trim();
    selections.set(columnKey(ref), { choice, expression });
    if (choice === NOT_MASKED) continue;
    // Empty custom expressions go to validation as they are, which names them.
    if (choice === CUSTOM_FUNCTION) {
      rules.push({ ...ref, masking_function: expression });
      continue;
    }
    if (choice === CUSTOM_VALUE) {
      rules.push({ ...ref, masking_value: expression });
      continue;
    }
    const named = maskingChoices.find((c) => c.id === choice);
    const where = `${ref.table_name}.${ref.column_name}`;
    if (!named) throw invalid(`fn.${n}: "${choice}" is not a masking choice (${where})`);
    const column = findColumn(databases, ref);
    if (column && !choicesFor(column).includes(named)) {
      throw invalid(`${where} is ${column.dataType}${column.notNull ? " NOT NULL" : ""}: "${named.label}" does not fit it`);
    }
    const expr = named.expression(ref.column_name);
    rules.push(named.kind === "function" ? { ...ref, masking_function: expr } : { ...ref, masking_value: expr });
  }
  return { rules, selections };
}
