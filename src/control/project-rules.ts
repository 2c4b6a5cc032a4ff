// A project's masking rules: the set a branch gets when it is created without
// rules (handy for CI, whose actions send none), and a floor for developer and
// ci principals, who may add rules but never leave one of these columns unmasked.
import { eq } from "drizzle-orm";
import { projects } from "../db/schema.ts";
import { DomainError } from "../lib/errors.ts";
import type { MaskingRule } from "../masking/types.ts";
import { validateMaskingRules } from "../masking/validate.ts";
import { loadDefaultBranch, loadProject, requireAdmin } from "./access.ts";
import { recordAudit } from "./audit.ts";
import type { Principal, Services } from "./context.ts";
import { branchDatabaseRows, loadCatalogs, RulesRejected } from "./masking-rules.ts";

type ProjectRow = typeof projects.$inferSelect;

const column = (r: MaskingRule): string => `${r.database_name}.${r.schema_name}.${r.table_name}.${r.column_name}`;

const expression = (r: MaskingRule): string =>
  r.masking_function?.trim() ? `FUNCTION ${r.masking_function.trim()}` : `VALUE ${r.masking_value?.trim() ?? ""}`;

/**
 * Developer and ci rule sets must keep every rule of the project as it is:
 * the column masked, and by the same expression — a rule such as
 * pg_catalog.lower(email) is valid SQL but masks nothing.
 */
export function assertRulesCoverProject(principal: Principal, project: ProjectRow, rules: MaskingRule[]): void {
  if (principal.role === "admin") return;
  if (project.maskingRules.length === 0) {
    throw new DomainError(
      "forbidden",
      "FORBIDDEN",
      `project ${project.id} has no masking rules yet: an admin must set them (PUT /projects/${project.id}/masking_rules) before ${principal.role} keys can create or change anonymized branches`,
    );
  }
  const given = new Map(rules.map((r) => [column(r), expression(r)]));
  const missing = project.maskingRules.filter((r) => given.get(column(r)) !== expression(r)).map(column);
  if (missing.length > 0) {
    throw new DomainError(
      "forbidden",
      "FORBIDDEN",
      `masking_rules: must mask ${missing.join(", ")} exactly as project ${project.id}'s masking rules do; a ${principal.role} key cannot weaken them (GET /projects/${project.id}/masking_rules)`,
    );
  }
}

export async function getProjectMaskingRules(svc: Services, principal: Principal, projectId: string) {
  const project = await loadProject(svc.db, principal, projectId);
  return { masking_rules: project.maskingRules };
}

export async function replaceProjectMaskingRules(svc: Services, principal: Principal, projectId: string, rules: MaskingRule[]) {
  requireAdmin(principal);
  const project = await loadProject(svc.db, principal, projectId);
  const main = await loadDefaultBranch(svc.db, projectId);
  const sourceUri = await svc.secrets.open(project.sourceUriEncrypted);
  const problems = await validateMaskingRules(rules, await loadCatalogs(sourceUri, await branchDatabaseRows(svc.db, main.id)));
  if (problems.length > 0) throw new RulesRejected(problems);
  return svc.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(projects)
      .set({ maskingRules: rules, updatedAt: new Date() })
      .where(eq(projects.id, projectId))
      .returning();
    await recordAudit(tx, principal, { action: "project.masking_rules.replace", projectId, before: project.maskingRules, after: rules });
    return { masking_rules: updated!.maskingRules };
  });
}

/**
 * Validates a rule set against the parent databases without storing it
 * (for `anonbranch rules check`): the problems a PUT or PATCH would answer.
 */
export async function checkMaskingRules(svc: Services, principal: Principal, projectId: string, rules: MaskingRule[]) {
  const project = await loadProject(svc.db, principal, projectId);
  const main = await loadDefaultBranch(svc.db, projectId);
  const sourceUri = await svc.secrets.open(project.sourceUriEncrypted);
  const problems = await validateMaskingRules(rules, await loadCatalogs(sourceUri, await branchDatabaseRows(svc.db, main.id)));
  return { valid: problems.length === 0, problems };
}
