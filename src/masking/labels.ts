// Labels set over SQL on a branch against its stored rules and the project's
// floor: which labels a run may fold in (src/control/label-import.ts).
import type { MaskingRule } from "./types.ts";

const columnOf = (r: MaskingRule): string => `${r.database_name}.${r.schema_name}.${r.table_name}.${r.column_name}`;

const expressionOf = (r: MaskingRule): string =>
  r.masking_function?.trim() ? `MASKED WITH FUNCTION ${r.masking_function.trim()}` : `MASKED WITH VALUE ${r.masking_value?.trim() ?? ""}`;

export interface LabelChanges {
  /** Stored rules with acceptable labels merged in. */
  rules: MaskingRule[];
  /** Rules that labels added or changed. */
  changed: MaskingRule[];
  /** Labels that would replace a project rule: column → message. */
  floorViolations: string[];
}

/** Merges labels into stored rules and finds the labels the project floor forbids. */
export function foldLabels(projectId: string, projectRules: MaskingRule[], stored: MaskingRule[], live: MaskingRule[]): LabelChanges {
  const storedByColumn = new Map(stored.map((r) => [columnOf(r), expressionOf(r)]));
  const projectByColumn = new Map(projectRules.map((r) => [columnOf(r), expressionOf(r)]));
  const floorViolations: string[] = [];
  const accepted = live.filter((label) => {
    const column = columnOf(label);
    const enforced = projectByColumn.get(column);
    if (enforced === undefined || storedByColumn.get(column) === expressionOf(label)) return true;
    if (enforced === expressionOf(label)) return true;
    floorViolations.push(
      `the SECURITY LABEL on ${column} (${expressionOf(label)}) would replace project ${projectId}'s rule for that column (${enforced}); labels cannot change a column the project's rules mask`,
    );
    return false;
  });
  const rules = mergeLabels(stored, accepted);
  const changed = rules.filter((r) => storedByColumn.get(columnOf(r)) !== expressionOf(r));
  return { rules, changed, floorViolations };
}

const columnKey = (r: MaskingRule): string => JSON.stringify([r.database_name, r.schema_name, r.table_name, r.column_name]);

/** Stored rules, with what the branch's labels say winning for the same column. */
export function mergeLabels(stored: MaskingRule[], live: MaskingRule[]): MaskingRule[] {
  const liveByKey = new Map(live.map((r) => [columnKey(r), r]));
  const merged = stored.map((r) => liveByKey.get(columnKey(r)) ?? r);
  const known = new Set(stored.map(columnKey));
  return [...merged, ...live.filter((r) => !known.has(columnKey(r)))];
}
