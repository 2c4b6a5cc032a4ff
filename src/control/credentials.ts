// Endpoints, databases, roles and credentials of a branch. Credentials of an
// anonymized branch exist for nobody until it is anonymized; the parent's
// (default branch) credentials are the data-plane admin's, for admins only.
import { and, eq } from "drizzle-orm";
import { branchDatabases, operations } from "../db/schema.ts";
import { databaseUri } from "../dataplane/connection.ts";
import { DomainError, notFound } from "../lib/errors.ts";
import { loadBranch, loadDefaultBranch, loadProject, requireAdmin } from "./access.ts";
import type { Principal, Services } from "./context.ts";
import { branchDatabaseRows } from "./masking-rules.ts";
import { presentDatabase, presentEndpoint, presentOperation, presentRole } from "./present.ts";
import { recordAudit } from "./audit.ts";

type Loaded = Awaited<ReturnType<typeof load>>;

async function load(svc: Services, principal: Principal, projectId: string, branchId: string) {
  const project = await loadProject(svc.db, principal, projectId);
  const branch = await loadBranch(svc.db, projectId, branchId);
  return { project, branch };
}

function assertRevealable(principal: Principal, { branch }: Loaded): void {
  if (branch.anonState === null) {
    requireAdmin(principal);
    return;
  }
  if (branch.anonState !== "anonymized") {
    throw new DomainError(
      "not_ready",
      "BRANCH_NOT_ANONYMIZED",
      `credentials of branch ${branch.id} are available once it is anonymized (state: ${branch.anonState}); poll …/anonymized_status`,
    );
  }
}

function roleOf({ branch }: Loaded, name: string) {
  if (branch.roleName !== name) throw notFound(`role ${name} on branch ${branch.id}`);
  return presentRole(branch.id, name, branch.createdAt, branch.isDefault);
}

async function passwordOf(svc: Services, { project, branch }: Loaded): Promise<string> {
  if (branch.anonState === null) {
    return decodeURIComponent(new URL(await svc.secrets.open(project.sourceUriEncrypted)).password);
  }
  return svc.secrets.open(branch.rolePasswordEncrypted!);
}

export async function listEndpoints(svc: Services, principal: Principal, projectId: string, branchId: string) {
  const l = await load(svc, principal, projectId, branchId);
  return { endpoints: [presentEndpoint(l.branch, l.project.host)] };
}

export async function listDatabases(svc: Services, principal: Principal, projectId: string, branchId: string) {
  const l = await load(svc, principal, projectId, branchId);
  return { databases: (await branchDatabaseRows(svc.db, l.branch.id)).map(presentDatabase) };
}

export async function getDatabase(svc: Services, principal: Principal, projectId: string, branchId: string, name: string) {
  const l = await load(svc, principal, projectId, branchId);
  const [row] = await svc.db
    .select()
    .from(branchDatabases)
    .where(and(eq(branchDatabases.branchId, l.branch.id), eq(branchDatabases.name, name)));
  if (!row) throw notFound(`database ${name} on branch ${branchId}`);
  return { database: presentDatabase(row) };
}

export async function listRoles(svc: Services, principal: Principal, projectId: string, branchId: string) {
  const l = await load(svc, principal, projectId, branchId);
  return { roles: l.branch.roleName ? [roleOf(l, l.branch.roleName)] : [] };
}

export async function getRole(svc: Services, principal: Principal, projectId: string, branchId: string, name: string) {
  const l = await load(svc, principal, projectId, branchId);
  return { role: roleOf(l, name) };
}

export async function revealPassword(svc: Services, principal: Principal, projectId: string, branchId: string, name: string) {
  const l = await load(svc, principal, projectId, branchId);
  roleOf(l, name);
  assertRevealable(principal, l);
  await recordAudit(svc.db, principal, { action: "credentials.reveal_password", projectId, branchId: l.branch.id, after: { role: name } });
  return { password: await passwordOf(svc, l) };
}

export interface ConnectionUriQuery {
  branch_id?: string;
  database_name: string;
  role_name: string;
}

export async function connectionUri(svc: Services, principal: Principal, projectId: string, query: ConnectionUriQuery) {
  const project = await loadProject(svc.db, principal, projectId);
  const branchId = query.branch_id ?? (await loadDefaultBranch(svc.db, projectId)).id;
  const l = await load(svc, principal, project.id, branchId);
  roleOf(l, query.role_name);
  assertRevealable(principal, l);
  const [db] = await svc.db
    .select()
    .from(branchDatabases)
    .where(and(eq(branchDatabases.branchId, l.branch.id), eq(branchDatabases.name, query.database_name)));
  if (!db) throw notFound(`database ${query.database_name} on branch ${branchId}`);
  const source = await svc.secrets.open(project.sourceUriEncrypted);
  const url = new URL(databaseUri(source, db.physicalName));
  url.username = encodeURIComponent(query.role_name);
  url.password = encodeURIComponent(await passwordOf(svc, l));
  await recordAudit(svc.db, principal, {
    action: "credentials.connection_uri",
    projectId,
    branchId: l.branch.id,
    after: { role: query.role_name, database: query.database_name },
  });
  return { uri: url.toString() };
}

export async function getOperation(svc: Services, principal: Principal, projectId: string, operationId: string) {
  await loadProject(svc.db, principal, projectId);
  const [op] = await svc.db
    .select()
    .from(operations)
    .where(and(eq(operations.id, operationId), eq(operations.projectId, projectId)));
  if (!op) throw notFound(`operation ${operationId}`);
  return { operation: presentOperation(op) };
}
