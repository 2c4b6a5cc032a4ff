// Everything a branch job needs, loaded from the metadata database.
import { and, eq } from "drizzle-orm";
import { branches, projects } from "../db/schema.ts";
import type { Services } from "../control/context.ts";
import { branchDatabaseRows } from "../control/masking-rules.ts";
import { maskerRoleName } from "../dataplane/names.ts";
import { branchRoles } from "../dataplane/roles.ts";

export async function loadJobContext(svc: Services, branchId: string) {
  const [branch] = await svc.db.select().from(branches).where(eq(branches.id, branchId));
  if (!branch) return null;
  const [project] = await svc.db.select().from(projects).where(and(eq(projects.id, branch.projectId)));
  if (!project) return null;
  const databases = await branchDatabaseRows(svc.db, branch.id);
  const parentDatabases = branch.parentId ? await branchDatabaseRows(svc.db, branch.parentId) : [];
  const parentPhysical = new Map(parentDatabases.map((d) => [d.name, d.physicalName]));
  return {
    branch,
    project,
    sourceUri: await svc.secrets.open(project.sourceUriEncrypted),
    databases: databases.map((d) => ({ ...d, parentPhysicalName: parentPhysical.get(d.name) ?? null })),
    /** The branch's roles on the data plane (null for the default branch, which has none). */
    roles: branch.roleName ? branchRoles(branch.id, branch.roleName, maskerRoleName(branch.id)) : null,
  };
}

export type JobContext = NonNullable<Awaited<ReturnType<typeof loadJobContext>>>;
