// Masking rules of an anonymized branch: validated against the real schema
// with the real parser (src/masking), stored as rows, applied as labels.
import { and, asc, eq, getTableColumns, isNull } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import { branchDatabases, branches, maskingRules, projects } from "../db/schema.ts";
import { withDataPlane } from "../dataplane/connection.ts";
import { applyLabels, readColumnLabels } from "../dataplane/prepare.ts";
import { DomainError, invalid } from "../lib/errors.ts";
import { memoized } from "../lib/memo.ts";
import { RecentReads, serverKey } from "../lib/recent-reads.ts";
import { introspectDatabase } from "../masking/introspect.ts";
import type { DatabaseCatalog, MaskingRule, RuleProblem } from "../masking/types.ts";
import { parseLabel, validateMaskingRules } from "../masking/validate.ts";
import { assertBranchIdle, loadBranch, loadBranchView, loadProject } from "./access.ts";
import type { Principal, Services } from "./context.ts";
import { readThrough } from "./read-cache.ts";
import { recordAudit } from "./audit.ts";
import { assertRulesCoverProject } from "./project-rules.ts";
import { foldLabels } from "../masking/labels.ts";

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

/**
 * The databases of a project's branch `parentId`, or of its default branch:
 * read at once with the branch itself (an unknown parent has none).
 */
export async function parentDatabaseRows(db: Services["db"] | Tx, projectId: string, parentId?: string): Promise<DatabaseRow[]> {
  return db
    .select(getTableColumns(branchDatabases))
    .from(branchDatabases)
    .innerJoin(branches, eq(branches.id, branchDatabases.branchId))
    .where(and(eq(branches.projectId, projectId), parentId ? eq(branches.id, parentId) : eq(branches.isDefault, true), isNull(branches.deletedAt)))
    .orderBy(asc(branchDatabases.id));
}

/**
 * Introspects each (logical → physical) database; keyed by logical name. With
 * maxAgeMs, a recent read may answer instead (src/lib/recent-reads.ts), so a
 * steady stream of creates never waits for the parent (a connection to it
 * waits while the worker clones it: CREATE DATABASE … TEMPLATE locks it).
 */
export async function loadCatalogs(
  sourceUri: string,
  databases: DatabaseRow[],
  options: { maxAgeMs?: number } = {},
): Promise<Record<string, DatabaseCatalog>> {
  const catalogs: Record<string, DatabaseCatalog> = {};
  const server = serverKey(sourceUri);
  for (const d of databases) {
    const key = `${server}/${d.physicalName}/${d.name}`;
    const read = () => withDataPlane(sourceUri, d.physicalName, (sql) => introspectDatabase(sql, d.name));
    catalogs[d.name] = await recentCatalogs.get(key, options.maxAgeMs ?? 0, read);
  }
  return catalogs;
}

/**
 * Catalogs read lately, for the API's validation of rule sets (a burst of CI
 * creates asks the same parent the same question): a schema change is seen at
 * most API_CATALOG_MAX_AGE_MS late there, and never by a run, which always
 * validates against a fresh read of the branch itself (label-import.ts).
 */
const recentCatalogs = new RecentReads<DatabaseCatalog>();
export const API_CATALOG_MAX_AGE_MS = 10_000;

/**
 * Validates rules against the schema they will run on: the branch's own
 * databases once they exist, the parent's before that.
 */
export async function validateRulesFor(
  svc: Services,
  tx: Services["db"] | Tx,
  project: ProjectRow,
  branch: Pick<BranchRow, "id" | "parentId" | "anonState">,
  rules: MaskingRule[],
): Promise<void> {
  const source = hasDatabases(branch as BranchRow) ? branch.id : branch.parentId;
  if (!source) throw invalid("the branch has no parent to validate masking rules against");
  await validateRulesOn(await svc.secrets.open(project.sourceUriEncrypted), await branchDatabaseRows(tx, source), rules);
}

/** Validates rules against these databases' schemas (a recent read first, a fresh one before any refusal). */
export async function validateRulesOn(sourceUri: string, databases: DatabaseRow[], rules: MaskingRule[]): Promise<void> {
  let problems = await validateMaskingRules(rules, await loadCatalogs(sourceUri, databases, { maxAgeMs: API_CATALOG_MAX_AGE_MS }));
  // A refusal is never made on a catalog read earlier: the schema may have just changed.
  if (problems.length > 0) problems = await validateMaskingRules(rules, await loadCatalogs(sourceUri, databases));
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

type RuleSource = "api" | "sql" | ((rule: MaskingRule) => "api" | "sql");

export async function storeRules(tx: Tx, branchId: string, rules: MaskingRule[], source: RuleSource = "api"): Promise<void> {
  await tx.delete(maskingRules).where(eq(maskingRules.branchId, branchId));
  await insertRules(tx, branchId, rules, source);
}

/** Adds rules to a branch that has none (a new one). */
export async function insertRules(tx: Tx, branchId: string, rules: MaskingRule[], source: RuleSource = "api"): Promise<void> {
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
      source: typeof source === "function" ? source(r) : source,
    })),
  );
}

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

/**
 * Every rule of the branch, labels set over SQL included. Labels can only have
 * changed since the last run if the endpoint has admitted a client since
 * (userSessionsSinceRun): otherwise they are the stored rules, read without
 * touching the data plane (and from the read cache when there is one).
 */
export async function getMaskingRules(svc: Services, principal: Principal, projectId: string, branchId: string) {
  const { branch } = await loadBranchView(svc, principal, projectId, branchId);
  if (branch.anonState === null) throw invalid(`branch ${branchId} is not an anonymized branch`, "NOT_ANONYMIZED_BRANCH");
  if (!hasDatabases(branch) || !branch.userSessionsSinceRun) {
    return storedRulesBody(await readThrough(svc.cache, `rules:${branch.id}`, () => storedRules(svc.db, branch.id)));
  }
  const project = await loadProject(svc.db, principal, projectId);
  const sourceUri = await svc.secrets.open(project.sourceUriEncrypted);
  const databases = await branchDatabaseRows(svc.db, branch.id);
  // What a run would apply: labels that would replace a project rule are not (the run refuses them).
  const live = await liveRules(sourceUri, databases);
  return { masking_rules: foldLabels(project.id, project.maskingRules, await storedRules(svc.db, branch.id), live).rules };
}

/** The answer for stored rules, made once per rules the read cache serves (src/lib/memo.ts). */
const storedRulesBody = memoized((rules: MaskingRule[]) => ({ masking_rules: rules }));

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
