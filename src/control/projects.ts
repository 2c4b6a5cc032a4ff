// Projects: a registered data-plane server and its default branch (`main`).
import { and, asc, eq, gt, isNull } from "drizzle-orm";
import { branchDatabases, branches, projects, type ProjectSettings } from "../db/schema.ts";
import { probeServer, DataPlaneUnreachable } from "../dataplane/probe.ts";
import { invalid } from "../lib/errors.ts";
import { newBranchId, newEndpointId, newProjectId } from "../lib/ids.ts";
import { canTouchProject, loadBranch, loadProject, requireAdmin } from "./access.ts";
import type { Principal, Services } from "./context.ts";
import { presentBranch, presentDatabase, presentEndpoint, presentProject, presentRole } from "./present.ts";
import { deleteBranchInTx } from "./branches.ts";
import { recordAudit } from "./audit.ts";

export interface CreateProjectInput {
  name: string;
  source: { connection_uri: string; databases: string[] };
}

export async function createProject(svc: Services, principal: Principal, input: CreateProjectInput) {
  requireAdmin(principal);
  const uri = new URL(input.source.connection_uri);
  let probe;
  try {
    probe = await probeServer(input.source.connection_uri, input.source.databases);
  } catch (error) {
    if (error instanceof DataPlaneUnreachable) {
      throw invalid(`project.source.connection_uri: cannot connect to the server: ${error.message}`, "SOURCE_UNREACHABLE");
    }
    throw error;
  }
  if (!probe.superuser) {
    throw invalid(`project.source.connection_uri: role ${probe.user} is not a superuser; anonbranch needs an admin connection`);
  }
  if (probe.missingDatabases.length > 0) {
    throw invalid(`project.source.databases: database ${probe.missingDatabases.map((d) => `"${d}"`).join(", ")} does not exist on the server`);
  }
  if (!probe.anonAvailable) {
    throw invalid(
      "project.source.connection_uri: the anon extension is not installed on that server; install PostgreSQL Anonymizer (or run scripts/setup.sh for anonbranch's engine) and retry",
      "ANON_MISSING",
    );
  }

  const sealed = await svc.secrets.seal(input.source.connection_uri);
  return svc.db.transaction(async (tx) => {
    const [project] = await tx
      .insert(projects)
      .values({
        id: newProjectId(),
        name: input.name,
        sourceUriEncrypted: sealed,
        host: uri.hostname,
        port: Number(uri.port || 5432),
        pgVersion: probe.pgVersion,
      })
      .returning();
    const [branch] = await tx
      .insert(branches)
      .values({
        id: newBranchId(),
        projectId: project!.id,
        name: "main",
        isDefault: true,
        protected: true,
        currentState: "ready",
        endpointId: newEndpointId(),
        roleName: probe.user,
      })
      .returning();
    const databases = await tx
      .insert(branchDatabases)
      .values(input.source.databases.map((name) => ({ branchId: branch!.id, name, physicalName: name, ownerName: probe.user })))
      .returning();
    await recordAudit(tx, principal, {
      action: "project.create",
      projectId: project!.id,
      after: { name: project!.name, host: project!.host, port: project!.port, databases: input.source.databases },
    });
    return {
      project: presentProject(project!),
      branch: presentBranch(branch!),
      databases: databases.map((d) => presentDatabase(d)),
      roles: [presentRole(branch!.id, probe.user, branch!.createdAt, true)],
      endpoints: [presentEndpoint(branch!, project!.host)],
      operations: [],
    };
  });
}

export async function listProjects(svc: Services, principal: Principal, query: { limit: number; cursor?: string }) {
  const rows = await svc.db
    .select()
    .from(projects)
    .where(and(isNull(projects.deletedAt), query.cursor ? gt(projects.id, query.cursor) : undefined))
    .orderBy(asc(projects.id));
  const visible = rows.filter((p) => canTouchProject(principal, p.id)).slice(0, query.limit);
  const last = visible.at(-1);
  return {
    projects: visible.map(presentProject),
    pagination: last && visible.length === query.limit ? { cursor: last.id } : undefined,
  };
}

export async function getProject(svc: Services, principal: Principal, projectId: string) {
  return { project: presentProject(await loadProject(svc.db, principal, projectId)) };
}

/** Deletes the project and all its branches' copies; parent databases are never touched. */
export async function deleteProject(svc: Services, principal: Principal, projectId: string) {
  requireAdmin(principal);
  return svc.db.transaction(async (tx) => {
    const project = await loadProject(tx, principal, projectId);
    const children = await tx
      .select()
      .from(branches)
      .where(and(eq(branches.projectId, projectId), isNull(branches.deletedAt), eq(branches.isDefault, false)));
    const operations = [];
    for (const child of children) {
      const branch = await loadBranch(tx, projectId, child.id, { forUpdate: true });
      operations.push(await deleteBranchInTx(svc, tx, branch, { force: true }));
      await recordAudit(tx, principal, { action: "branch.delete", projectId, branchId: branch.id });
    }
    const now = new Date();
    await tx.update(branches).set({ deletedAt: now }).where(and(eq(branches.projectId, projectId), eq(branches.isDefault, true)));
    await recordAudit(tx, principal, { action: "project.delete", projectId, before: { name: project.name } });
    const [deleted] = await tx.update(projects).set({ deletedAt: now, updatedAt: now }).where(eq(projects.id, project.id)).returning();
    return { project: presentProject(deleted!), operations };
  });
}

export interface UpdateProjectInput {
  name?: string;
  settings?: ProjectSettings;
}

/** Renames a project and sets its quotas (admin). A null quota removes that limit. */
export async function updateProject(svc: Services, principal: Principal, projectId: string, input: UpdateProjectInput) {
  requireAdmin(principal);
  return svc.db.transaction(async (tx) => {
    const project = await loadProject(tx, principal, projectId);
    const quota = { ...project.settings.quota, ...input.settings?.quota };
    const settings: ProjectSettings = { ...project.settings, ...(input.settings ? { quota } : {}) };
    const [updated] = await tx
      .update(projects)
      .set({ name: input.name ?? project.name, settings, updatedAt: new Date() })
      .where(eq(projects.id, project.id))
      .returning();
    await recordAudit(tx, principal, {
      action: "project.update",
      projectId,
      before: { name: project.name, settings: project.settings },
      after: { name: updated!.name, settings },
    });
    return { project: presentProject(updated!), operations: [] };
  });
}
