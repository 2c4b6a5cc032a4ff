// What a masking editor needs besides the rules: the schema the rules apply to
// (read, never a row), and a dry run of the validation a PATCH/PUT would do.
import { invalid } from "../lib/errors.ts";
import type { DatabaseCatalog, MaskingRule } from "../masking/types.ts";
import { validateMaskingRules } from "../masking/validate.ts";
import { loadBranch, loadDefaultBranch, loadProject } from "./access.ts";
import type { Principal, Services } from "./context.ts";
import { branchDatabaseRows, hasDatabases, loadCatalogs, RulesRejected, validateRulesFor } from "./masking-rules.ts";

/**
 * The tables and columns masking rules of a branch (or, without branchId, of
 * the project) are checked against: the branch's own databases once they
 * exist, its parent's before that; the default branch's for project rules.
 */
export async function maskingSchema(
  svc: Services,
  principal: Principal,
  projectId: string,
  branchId?: string,
): Promise<{ databases: DatabaseCatalog[] }> {
  const project = await loadProject(svc.db, principal, projectId);
  let source = (await loadDefaultBranch(svc.db, projectId)).id;
  if (branchId) {
    const branch = await loadBranch(svc.db, projectId, branchId);
    source = hasDatabases(branch) ? branch.id : (branch.parentId ?? source);
  }
  const sourceUri = await svc.secrets.open(project.sourceUriEncrypted);
  const catalogs = await loadCatalogs(sourceUri, await branchDatabaseRows(svc.db, source));
  return { databases: Object.values(catalogs) };
}

/**
 * Dry run of the rule validation of PATCH …/masking_rules (§5: identifiers,
 * expressions, foreign keys, uniqueness): throws the same RulesRejected. It
 * does not check the project-rule floor, which only a whole set can meet.
 */
export async function checkMaskingRules(
  svc: Services,
  principal: Principal,
  projectId: string,
  branchId: string,
  rules: MaskingRule[],
): Promise<{ valid: true }> {
  const project = await loadProject(svc.db, principal, projectId);
  const branch = await loadBranch(svc.db, projectId, branchId);
  if (branch.anonState === null) throw invalid(`branch ${branchId} is not an anonymized branch`, "NOT_ANONYMIZED_BRANCH");
  await validateRulesFor(svc, svc.db, project, branch, rules);
  return { valid: true };
}

/** Dry run of the validation of PUT /projects/{id}/masking_rules. */
export async function checkProjectMaskingRules(
  svc: Services,
  principal: Principal,
  projectId: string,
  rules: MaskingRule[],
): Promise<{ valid: true }> {
  const { databases } = await maskingSchema(svc, principal, projectId);
  const problems = await validateMaskingRules(rules, Object.fromEntries(databases.map((d) => [d.database, d])));
  if (problems.length > 0) throw new RulesRejected(problems);
  return { valid: true };
}
