// Endpoints, databases, roles and credentials of a branch. An anonymized
// branch's credentials are the logical role and password of its endpoint,
// given at once; the parent's (default branch) are the data-plane admin's,
// for admins only.
import { and, eq } from "drizzle-orm";
import { branchDatabases, operations } from "../db/schema.ts";
import { databaseUri } from "../dataplane/connection.ts";
import { notFound } from "../lib/errors.ts";
import { clientRoleName, endpointHost } from "./endpoints.ts";
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

/**
 * The default branch's credentials are the data-plane admin's: admins only.
 * An anonymized branch's are for everyone who may see the branch, at once
 * (Neon's behaviour): they open only its endpoint, which admits nobody until
 * the branch is anonymized.
 */
function assertRevealable(principal: Principal, { branch }: Loaded): void {
  if (branch.anonState === null) requireAdmin(principal);
}

function roleOf({ project, branch }: Loaded, name: string) {
  const role = clientRoleName(project, branch);
  if (role === null || role !== name) throw notFound(`role ${name} on branch ${branch.id}`);
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
  return { endpoints: [presentEndpoint(l.branch, endpointHost(svc.config, l.project, l.branch))] };
}

export async function listDatabases(svc: Services, principal: Principal, projectId: string, branchId: string) {
  const l = await load(svc, principal, projectId, branchId);
  const owner = clientRoleName(l.project, l.branch);
  return { databases: (await branchDatabaseRows(svc.db, l.branch.id)).map((d) => presentDatabase(d, owner)) };
}

export async function getDatabase(svc: Services, principal: Principal, projectId: string, branchId: string, name: string) {
  const l = await load(svc, principal, projectId, branchId);
  const [row] = await svc.db
    .select()
    .from(branchDatabases)
    .where(and(eq(branchDatabases.branchId, l.branch.id), eq(branchDatabases.name, name)));
  if (!row) throw notFound(`database ${name} on branch ${branchId}`);
  return { database: presentDatabase(row, clientRoleName(l.project, l.branch)) };
}

export async function listRoles(svc: Services, principal: Principal, projectId: string, branchId: string) {
  const l = await load(svc, principal, projectId, branchId);
  const role = clientRoleName(l.project, l.branch);
  return { roles: role ? [roleOf(l, role)] : [] };
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
  let url: URL;
  if (l.branch.anonState === null) {
    url = new URL(databaseUri(await svc.secrets.open(project.sourceUriEncrypted), db.physicalName));
  } else {
    // The endpoint speaks the logical names; TLS is always offered there.
    url = new URL(`postgresql://${endpointHost(svc.config, project, l.branch)}`);
    url.pathname = `/${encodeURIComponent(db.name)}`;
    url.searchParams.set("sslmode", "require");
  }
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
