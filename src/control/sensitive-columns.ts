// The sensitive-column scan: what looks like personal data in the parent
// databases, and whether the project's (or a branch's) rules mask it. Reads
// the schema only, never a row, so every role with access to the project may ask.
import { scanSensitiveColumns } from "../masking/sensitive.ts";
import type { MaskingRule } from "../masking/types.ts";
import { loadBranch, loadDefaultBranch, loadProject } from "./access.ts";
import type { Principal, Services } from "./context.ts";
import { branchDatabaseRows, loadCatalogs, storedRules } from "./masking-rules.ts";

const key = (r: Pick<MaskingRule, "database_name" | "schema_name" | "table_name" | "column_name">): string =>
  JSON.stringify([r.database_name, r.schema_name, r.table_name, r.column_name]);

export async function sensitiveColumns(svc: Services, principal: Principal, projectId: string, branchId?: string) {
  const project = await loadProject(svc.db, principal, projectId);
  const main = await loadDefaultBranch(svc.db, projectId);
  const rules = branchId ? await storedRules(svc.db, (await loadBranch(svc.db, projectId, branchId)).id) : project.maskingRules;
  const masked = new Set(rules.map(key));
  const sourceUri = await svc.secrets.open(project.sourceUriEncrypted);
  const columns = (await scanSensitiveColumns(await loadCatalogs(sourceUri, await branchDatabaseRows(svc.db, main.id)))).map(
    (c) => ({ ...c, masked: masked.has(key(c)) }),
  );
  return {
    rules_of: branchId ? { branch_id: branchId } : { project_id: projectId },
    columns,
    coverage: { sensitive: columns.length, masked: columns.filter((c) => c.masked).length },
  };
}
