// Preview of masked rows: what a table of a branch looks like under the
// branch's current rules (labels set over SQL folded in and checked as a run
// would), computed on the branch database without changing it. Any principal
// that may read the branch may preview it, from `initialized` on: before the
// first run the data underneath is the parent's, and only masked values of
// masked columns ever leave the database.
import { branchDatabaseRows, liveRules, loadCatalogs, RulesRejected, storedRules } from "./masking-rules.ts";
import { maskerRoleName } from "../dataplane/names.ts";
import { branchRoles } from "../dataplane/roles.ts";
import { previewTable, TableNotFound } from "../dataplane/preview.ts";
import { withMaskerSession } from "../dataplane/sessions.ts";
import { describeError } from "../dataplane/connection.ts";
import { tryWithBranchLock } from "../jobs/branch-lock.ts";
import { conflict, invalid, locked, notFound } from "../lib/errors.ts";
import { foldLabels } from "../masking/labels.ts";
import { validateMaskingRules } from "../masking/validate.ts";
import { loadBranch, loadProject } from "./access.ts";
import { recordAudit } from "./audit.ts";
import type { Principal, Services } from "./context.ts";

export interface PreviewQuery {
  /** schema.table, or a table of schema public. */
  table: string;
  database?: string;
  limit: number;
}

function splitTable(text: string): { schema: string; table: string } {
  const dot = text.indexOf(".");
  const [schema, table] = dot < 0 ? ["public", text] : [text.slice(0, dot), text.slice(dot + 1)];
  if (!schema || !table) throw invalid(`table: "${text}" is not schema.table`);
  return { schema, table };
}

export async function previewMaskedRows(svc: Services, principal: Principal, projectId: string, branchId: string, q: PreviewQuery) {
  const project = await loadProject(svc.db, principal, projectId);
  const branch = await loadBranch(svc.db, projectId, branchId);
  if (branch.anonState === null) throw invalid(`branch ${branchId} is not an anonymized branch`, "NOT_ANONYMIZED_BRANCH");
  if (branch.anonState === "created" || branch.anonState === "initialization_error") {
    throw conflict(`branch ${branchId} is ${branch.anonState}: its databases are not cloned yet; preview works from initialized on`, "INVALID_STATE");
  }
  const { schema, table } = splitTable(q.table);
  const databases = await branchDatabaseRows(svc.db, branch.id);
  const db = q.database ? databases.find((d) => d.name === q.database) : databases[0];
  if (!db) throw notFound(`database ${q.database} on branch ${branchId}`);
  const sourceUri = await svc.secrets.open(project.sourceUriEncrypted);

  const done = await tryWithBranchLock(svc, branch.id, async () => {
    const live = await liveRules(sourceUri, databases);
    const { rules, floorViolations } = foldLabels(project.id, project.maskingRules, await storedRules(svc.db, branch.id), live);
    const problems = [
      ...floorViolations.map((message) => ({ index: -1, field: "masking_rules", message })),
      ...(await validateMaskingRules(rules, await loadCatalogs(sourceUri, databases))),
    ];
    if (problems.length > 0) throw new RulesRejected(problems);
    const own = rules.filter((r) => r.database_name === db.name && r.schema_name === schema && r.table_name === table);
    const roles = branchRoles(branch.id, branch.roleName!, maskerRoleName(branch.id));
    try {
      return await withMaskerSession(sourceUri, db.physicalName, roles, (masker) => previewTable(masker, schema, table, own, q.limit));
    } catch (error) {
      if (error instanceof TableNotFound) throw notFound(`table ${db.name}.${schema}.${table}`);
      throw invalid(`previewing ${db.name}.${schema}.${table} failed: ${describeError(error)}`, "PREVIEW_FAILED");
    }
  });
  if (!done) throw locked(`branch ${branchId} is busy with a job; preview it when the job has finished`);
  await recordAudit(svc.db, principal, { action: "branch.preview", projectId, branchId: branch.id, after: { database: db.name, table: `${schema}.${table}`, rows: done.value.rows.length } });
  return { database_name: db.name, schema_name: schema, table_name: table, ...done.value };
}
