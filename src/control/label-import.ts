// Labels set over SQL on a branch, folded into its rules before every run.
//
// Whoever holds the branch's credentials can run SECURITY LABEL on its
// columns, and credentials go to every developer and ci key of the project.
// So a label is a rule change from the least trusted principal who could have
// made it, whoever triggers the run that imports it: it passes what a
// developer's PATCH would have to pass —
//  - it never changes a column the project's rules mask (the project floor:
//    not replaced, not weakened; a label removed with IS NULL is ignored and
//    the stored rule applied again);
//  - the merged set passes validateMaskingRules(): allow-listed functions, no
//    foreign-key columns, UNIQUE kept, and no expression reading a masked column.
// A refused label stops the run before anything is cloned, dropped or masked,
// and is audited; an accepted change is stored and audited.
import type { Tx } from "../db/client.ts";
import type { branchDatabases, projects } from "../db/schema.ts";
import { foldLabels } from "../masking/labels.ts";
import type { MaskingRule } from "../masking/types.ts";
import { validateMaskingRules } from "../masking/validate.ts";
import { recordAudit } from "./audit.ts";
import type { Principal, Services } from "./context.ts";
import { liveRules, loadCatalogs, storedRules, storeRules } from "./masking-rules.ts";

type ProjectRow = typeof projects.$inferSelect;
type DatabaseRow = typeof branchDatabases.$inferSelect;

export class LabelRefused extends Error {}

export interface RunScope {
  branchId: string;
  project: ProjectRow;
  sourceUri: string;
  databases: DatabaseRow[];
}

/**
 * The rules a run applies: stored rules with the branch's labels folded in,
 * validated as a developer's would be. Throws LabelRefused (audited, under
 * the run's trigger) when a label is refused; stores and audits a change.
 */
export async function rulesForRun(svc: Services, scope: RunScope, trigger: Principal): Promise<MaskingRule[]> {
  const stored = await storedRules(svc.db, scope.branchId);
  const live = await liveRules(scope.sourceUri, scope.databases);
  const { rules, changed, floorViolations } = foldLabels(scope.project.id, scope.project.maskingRules, stored, live);
  const problems = [
    ...floorViolations,
    ...(await validateMaskingRules(rules, await loadCatalogs(scope.sourceUri, scope.databases))).map((p) => p.message),
  ];
  if (problems.length > 0) {
    const message = `Masking rules refused; nothing was masked or re-cloned: ${problems.join("; ")}. Fix the branch's SECURITY LABELs (or PATCH …/masking_rules) and start anonymization again`;
    await recordAudit(svc.db, trigger, {
      action: "masking_rules.label_refused",
      projectId: scope.project.id,
      branchId: scope.branchId,
      before: stored,
      after: { labels: live, problems },
    });
    throw new LabelRefused(message);
  }
  if (changed.length > 0) {
    await svc.db.transaction(async (tx: Tx) => {
      await storeRules(tx, scope.branchId, rules, (r) => (changed.includes(r) ? "sql" : "api"));
      await recordAudit(tx, trigger, {
        action: "masking_rules.import_labels",
        projectId: scope.project.id,
        branchId: scope.branchId,
        before: stored,
        after: rules,
      });
    });
  }
  return rules;
}
