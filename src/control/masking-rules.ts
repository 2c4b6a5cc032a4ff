// Masking rules of an anonymized branch: validated against the real schema
// with the real parser (src/masking), stored as rows, applied as labels.
import { and, asc, eq } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import { branchDatabases, branches, maskingRules, projects } from "../db/schema.ts";
import { withDataPlane } from "../dataplane/connection.ts";
import { applyLabels, readColumnLabels } from "../dataplane/prepare.ts";
import { DomainError, invalid } from "../lib/errors.ts";
import { introspectDatabase } from "../masking/introspect.ts";
import type { DatabaseCatalog, MaskingRule, RuleProblem } from "../masking/types.ts";
import { parseLabel, validateMaskingRules } from "../masking/validate.ts";
import { assertBranchIdle, loadBranch, loadProject } from "./access.ts";
import type { Principal, Services } from "./context.ts";
import { recordAudit } from "./audit.ts";
import { assertRulesCoverProject } from "./project-rules.ts";

type BranchRow = typeof branches.$inferSelect;
type ProjectRow = typeof projects.$inferSelect;
type DatabaseRow = typeof branchDatabases.$inferSelect;

/** A 422 whose message names every refused rule. */
export class RulesRejected extends DomainError {
  constructor(readonly problems: RuleProblem[]) {
    super("invalid", "INVALID_MASKING_RULES", problems.map((p) => p.message).join("; "));
  }
}

/** Branches whose databases exist on the data plane (labels live there). */
export const hasDatabases = (b: BranchRow): boolean =>
  b.anonState === "initialized" || b.anonState === "anonymizing" || b.anonState === "anonymized" || b.anonState === "error";

export async function branchDatabaseRows(db: Services["db"] | Tx, branchId: string): Promise<DatabaseRow[]> {
  return db.select().from(branchDatabases).where(eq(branchDatabases.branchId, branchId)).orderBy(asc(branchDatabases.id));
}

/** Introspects each (logical → physical) database; keyed by logical name. */
export async function loadCatalogs(sourceUri: string, databases: DatabaseRow[]): Promise<Record<string, DatabaseCatalog>> {
  const catalogs: Record<string, DatabaseCatalog> = {};
  for (const d of databases) {
    catalogs[d.name] = await withDataPlane(sourceUri, d.physicalName, (sql) => introspectDatabase(sql, d.name));
  }
  return catalogs;
}

/**
 * Validates rules against the schema they will run on: the branch's own
 * databases once they exist, the parent's before that.
 */
export async function validateRulesFor(
  svc: Services,
  tx: Tx,
  project: ProjectRow,
  branch: Pick<BranchRow, "id" | "parentId" | "anonState">,
  rules: MaskingRule[],
): Promise<void> {
  const source = hasDatabases(branch as BranchRow) ? branch.id : branch.parentId;
  if (!source) throw invalid("the branch has no parent to validate masking rules against");
  const sourceUri = await svc.secrets.open(project.sourceUriEncrypted);
  const catalogs = await loadCatalogs(sourceUri, await branchDatabaseRows(tx, source));
  const problems = await validateMaskingRules(rules, catalogs);
  if (problems.length > 0) throw new RulesRejected(problems);
}

export function toRule(r: typeof maskingRules.$inferSelect): MaskingRule {
  const rule: MaskingRule = {
    database_name: r.databaseName,
    schema_name: r.schemaName,
    table_name: r.tableName,
    column_name: r.columnName,
  };
  if (r.maskingFunction !== null) rule.masking_function = r.maskingFunction;
  if (r.maskingValue !== null) rule.masking_value = r.maskingValue;
  return rule;
}

export async function storedRules(db: Services["db"] | Tx, branchId: string): Promise<MaskingRule[]> {
  const rows = await db.select().from(maskingRules).where(eq(maskingRules.branchId, branchId)).orderBy(asc(maskingRules.position));
  return rows.map(toRule);
}

export async function storeRules(tx: Tx, branchId: string, rules: MaskingRule[], source: "api" | "sql" = "api"): Promise<void> {
  await tx.delete(maskingRules).where(eq(maskingRules.branchId, branchId));
  if (rules.length === 0) return;
  await tx.insert(maskingRules).values(
    rules.map((r, position) => ({
      branchId,
      position,
      databaseName: r.database_name,
      schemaName: r.schema_name,
      tableName: r.table_name,
      columnName: r.column_name,
      maskingFunction: r.masking_function?.trim() || null,
      maskingValue: r.masking_value?.trim() || null,
      source,
    })),
  );
}

const columnKey = (r: MaskingRule): string => JSON.stringify([r.database_name, r.schema_name, r.table_name, r.column_name]);

/** The labels on the branch's databases, as rules (labels users set over SQL included). */
export async function liveRules(sourceUri: string, databases: DatabaseRow[]): Promise<MaskingRule[]> {
  const rules: MaskingRule[] = [];
  for (const d of databases) {
    const labels = await withDataPlane(sourceUri, d.physicalName, readColumnLabels);
    for (const l of labels) {
      const parsed = parseLabel(l.label);
      if (!parsed) continue; // NOT MASKED
      rules.push({ database_name: d.name, schema_name: l.schema, table_name: l.table, column_name: l.column, ...parsed });
    }
  }
  return rules;
}

/** Stored rules, with what the branch's labels say winning for the same column. */
export function mergeRules(stored: MaskingRule[], live: MaskingRule[]): MaskingRule[] {
  const liveByKey = new Map(live.map((r) => [columnKey(r), r]));
  const merged = stored.map((r) => liveByKey.get(columnKey(r)) ?? r);
  const known = new Set(stored.map(columnKey));
  return [...merged, ...live.filter((r) => !known.has(columnKey(r)))];
}

async function requireAnonymized(svc: Services, principal: Principal, projectId: string, branchId: string) {
  const project = await loadProject(svc.db, principal, projectId);
  const branch = await loadBranch(svc.db, projectId, branchId);
  if (branch.anonState === null) throw invalid(`branch ${branchId} is not an anonymized branch`, "NOT_ANONYMIZED_BRANCH");
  return { project, branch };
}

export async function getMaskingRules(svc: Services, principal: Principal, projectId: string, branchId: string) {
  const { project, branch } = await requireAnonymized(svc, principal, projectId, branchId);
  const stored = await storedRules(svc.db, branch.id);
  if (!hasDatabases(branch)) return { masking_rules: stored };
  const sourceUri = await svc.secrets.open(project.sourceUriEncrypted);
  const live = await liveRules(sourceUri, await branchDatabaseRows(svc.db, branch.id));
  return { masking_rules: mergeRules(stored, live) };
}

/** PATCH: replaces the whole set; applied to the branch's labels at once when its databases exist. */
export async function replaceMaskingRules(
  svc: Services,
  principal: Principal,
  projectId: string,
  branchId: string,
  rules: MaskingRule[],
) {
  const project = await loadProject(svc.db, principal, projectId);
  return svc.db.transaction(async (tx) => {
    const branch = await loadBranch(tx, projectId, branchId, { forUpdate: true });
    if (branch.anonState === null) throw invalid(`branch ${branchId} is not an anonymized branch`, "NOT_ANONYMIZED_BRANCH");
    await assertBranchIdle(tx, branch.id);
    await validateRulesFor(svc, tx, project, branch, rules);
    assertRulesCoverProject(principal, project, rules);
    const before = await storedRules(tx, branch.id);
    await storeRules(tx, branch.id, rules);
    await recordAudit(tx, principal, { action: "masking_rules.replace", projectId, branchId: branch.id, before, after: rules });
    if (hasDatabases(branch)) {
      const sourceUri = await svc.secrets.open(project.sourceUriEncrypted);
      for (const d of await branchDatabaseRows(tx, branch.id)) {
        const own = rules.filter((r) => r.database_name === d.name);
        await withDataPlane(sourceUri, d.physicalName, (sql) => applyLabels(sql, d.name, own));
      }
    }
    await tx.update(branches).set({ updatedAt: new Date() }).where(and(eq(branches.id, branch.id)));
    return { masking_rules: await storedRules(tx, branch.id) };
  });
}
