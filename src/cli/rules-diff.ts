// What differs between a rules file and the server: rules (and, for a
// project, not-sensitive decisions) added, removed or changed by the file.
import type { NotSensitive, Rule, RulesFile } from "./rules-file.ts";

type Column = Pick<Rule, "database_name" | "schema_name" | "table_name" | "column_name">;

export interface DiffLine {
  column: string;
  /** What the server has (removed, changed). */
  server?: string;
  /** What the file has (added, changed). */
  file?: string;
}

export interface RulesDiff {
  added: DiffLine[];
  removed: DiffLine[];
  changed: DiffLine[];
}

export const columnName = (c: Column): string => `${c.database_name}.${c.schema_name}.${c.table_name}.${c.column_name}`;

/** One comparable text per column: how it is masked, or that it is not sensitive. */
function describe(file: RulesFile): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of file.rules) {
    out.set(columnName(r), r.masking_function?.trim() ? `function ${r.masking_function.trim()}` : `value ${String(r.masking_value ?? "").trim()}`);
  }
  for (const n of file.notSensitive as NotSensitive[]) out.set(columnName(n), `not_sensitive${n.reason ? ` (${n.reason})` : ""}`);
  return out;
}

export function diffRules(file: RulesFile, server: RulesFile): RulesDiff {
  const mine = describe(file);
  const theirs = describe(server);
  const diff: RulesDiff = { added: [], removed: [], changed: [] };
  for (const [column, text] of mine) {
    const other = theirs.get(column);
    if (other === undefined) diff.added.push({ column, file: text });
    else if (other !== text) diff.changed.push({ column, server: other, file: text });
  }
  for (const [column, text] of theirs) if (!mine.has(column)) diff.removed.push({ column, server: text });
  return diff;
}

export const isEmptyDiff = (d: RulesDiff): boolean => d.added.length + d.removed.length + d.changed.length === 0;

export function formatDiff(d: RulesDiff): string[] {
  return [
    ...d.added.map((l) => `+ ${l.column}  ${l.file}`),
    ...d.removed.map((l) => `- ${l.column}  ${l.server}`),
    ...d.changed.map((l) => `~ ${l.column}  ${l.server} → ${l.file}`),
  ];
}
