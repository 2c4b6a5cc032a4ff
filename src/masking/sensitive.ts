// Which columns look like personal data, from their names and types and,
// when the caller sampled values, from the evidence those gave; and a masking
// rule to suggest for each. Suggestions are only offered when they pass the
// same validation as user rules.
import { categoryOfName, suggestionFor } from "./categories.ts";
import type { DatabaseCatalog, MaskingRule, TableInfo } from "./types.ts";
import { validateMaskingRules } from "./validate.ts";
import type { ValueEvidence } from "./value-evidence.ts";

export interface SensitiveColumn {
  database_name: string;
  schema_name: string;
  table_name: string;
  column_name: string;
  data_type: string;
  category: string;
  /** What gave the column away: its name (and type), its sampled values, or both. */
  detected_by: ("name" | "values")[];
  /** Present when values were sampled and matched: detectors and shares, never values. */
  evidence?: ValueEvidence[];
  suggested_rule?: MaskingRule;
  /** Why no rule is suggested (e.g. a foreign key: mask the referenced key). */
  note?: string;
}

function isUniqueAlone(table: TableInfo, column: string): boolean {
  return table.uniqueColumnSets.some((set) => set.length === 1 && set[0] === column);
}

/** The kind of data a value detector recognises, as the name scan calls it. */
const categoryOfDetector: Record<string, string> = {
  email: "email",
  phone: "phone",
  iban: "bank account",
  card_number: "card number",
  ip_address: "ip address",
  national_id: "national id",
  person_name: "name",
};

function categoryOfEvidence(evidence: ValueEvidence[]): string {
  const top = evidence[0]!;
  if (top.found_in === "json_key" || top.found_in === "json_value") return "personal data in JSON";
  if (top.found_in === "free_text") return "personal data in free text";
  return categoryOfDetector[top.detector] ?? top.detector;
}

/** Identifies a column across catalogs, rules and evidence maps. */
export const columnKey = (c: { database_name: string; schema_name: string; table_name: string; column_name: string }): string =>
  JSON.stringify([c.database_name, c.schema_name, c.table_name, c.column_name]);

/**
 * Sensitive-looking columns of every catalog, with validated suggestions.
 * `evidence` (keyed by columnKey) adds what sampling found; without it only
 * names and types are looked at.
 */
export async function scanSensitiveColumns(
  catalogs: Record<string, DatabaseCatalog>,
  evidence: ReadonlyMap<string, ValueEvidence[]> = new Map(),
): Promise<SensitiveColumn[]> {
  const found: SensitiveColumn[] = [];
  for (const [database, catalog] of Object.entries(catalogs)) {
    for (const table of catalog.tables) {
      for (const col of table.columns) {
        const at = { database_name: database, schema_name: table.schema, table_name: table.name, column_name: col.name };
        const byName = categoryOfName(col.name);
        const byValues = evidence.get(columnKey(at)) ?? [];
        if (!byName && byValues.length === 0) continue;
        const category = byName?.category ?? categoryOfEvidence(byValues);
        const entry: SensitiveColumn = {
          ...at,
          data_type: col.dataType,
          category,
          detected_by: [...(byName ? ["name" as const] : []), ...(byValues.length > 0 ? ["values" as const] : [])],
        };
        if (byValues.length > 0) entry.evidence = byValues;
        const suggest = suggestionFor(category)!;
        const rule: MaskingRule = { ...at, ...suggest(col.name, col.dataType, isUniqueAlone(table, col.name), col.notNull) };
        if (rule.masking_value === "NULL" && col.notNull) {
          entry.note = "NOT NULL column: choose a masking function that fits its type";
        } else {
          const problems = await validateMaskingRules([rule], { [database]: catalog });
          if (problems.length === 0) entry.suggested_rule = rule;
          else entry.note = problems.map((p) => p.message.replace(/^masking_rules\[0\]: /, "")).join("; ");
        }
        found.push(entry);
      }
    }
  }
  return found;
}
