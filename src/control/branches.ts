// Anonymized branches: create (enqueue), list, get, delete (enqueue).
import { enqueueJob } from "../jobs/enqueue.ts";
import { randomUUID } from "node:crypto";
import { and, asc, desc, eq, gt, ilike, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import { anonymizationRuns, branchDatabases, branches, operations, projects } from "../db/schema.ts";
import { branchRoleName, physicalDatabaseName } from "../dataplane/names.ts";
import { queues, type CreateBranchJob, type DeleteBranchJob } from "../jobs/queues.ts";
import { DomainError, conflict, invalid, violates } from "../lib/errors.ts";
import { settleInOrder } from "../lib/settle.ts";
import { memoized } from "../lib/memo.ts";
import { newBranchId, newEndpointId, newOperationId } from "../lib/ids.ts";
import { newPassword } from "../lib/secrets.ts";
import type { MaskingRule } from "../masking/types.ts";
import { assertBranchIdle, branchExpiry, canTouchProject, loadBranch, loadBranchView, loadDefaultBranch, loadProject } from "./access.ts";
import type { Principal, Services } from "./context.ts";
import { readThrough } from "./read-cache.ts";
import { insertRules, parentDatabaseRows, validateRulesOn } from "./masking-rules.ts";
import { recordAudit } from "./audit.ts";
import { assertCloneFits, cloneLimitsLock } from "./limits.ts";
import { PARENT_SIZE_MAX_AGE_MS, measureCloneRoom } from "../dataplane/server-health.ts";
import { assertRulesCoverProject } from "./project-rules.ts";
import { endpointHost, endpointPortsExhausted, endpointPortsLock, freeEndpointPortSql } from "./endpoints.ts";
import {
  presentBranch,
  presentDatabase,
  presentEndpoint,
  presentOperation,
  presentRole,
} from "./present.ts";

type BranchRow = typeof branches.$inferSelect;

export interface CreateAnonymizedBranchInput {
  branch_create?: { branch?: { name?: string; parent_id?: string; expires_at?: string; protected?: boolean } };
  masking_rules?: MaskingRule[];
  start_anonymization?: boolean;
  annotation_value?: Record<string, string>;
}

/**
 * Validates, checks the limits, and writes the branch with its job in one
 * transaction. On the hot path of CI bursts, so the statements that do not
 * depend on each other are pipelined (settleInOrder) and the parent's catalog
 * and size come from recent reads: a create costs six round trips to the
 * metadata database, each of which waits for a CPU when the worker keeps the
 * server busy, and none to the data plane while a burst goes on. (That holds
 * because the pool prepares drizzle's statements, src/db/client.ts: unprepared,
 * each statement cost two round trips and nothing pipelined, thirty in all.)
 */
export async function createAnonymizedBranch(
  svc: Services,
  principal: Principal,
  projectId: string,
  input: CreateAnonymizedBranchInput,
) {
  const options = input.branch_create?.branch ?? {};
  const findParent = (db: Services["db"] | Tx) =>
    options.parent_id
      ? loadBranch(db, projectId, options.parent_id).catch((error: unknown) => {
          if (error instanceof DomainError && error.kind === "not_found") {
            throw invalid(`branch_create.branch.parent_id: branch ${options.parent_id} does not exist in project ${projectId}`);
          }
          throw error;
        })
      : loadDefaultBranch(db, projectId);
  // The project's own errors (no access, no project) come first: settleInOrder reports in argument order.
  const [project, parent, parentDatabases] = await settleInOrder([
    loadProject(svc.db, principal, projectId),
    findParent(svc.db),
    parentDatabaseRows(svc.db, projectId, options.parent_id),
  ]);
  const sourceUri = await svc.secrets.open(project.sourceUriEncrypted);
  const rules = input.masking_rules ?? project.maskingRules;
  const expiresAt = branchExpiry(principal, options.expires_at ? new Date(options.expires_at) : null, svc.config);
  const id = newBranchId();
  // The two questions for the data plane — are the rules valid against the parent's schema, and does a
  // copy fit — are asked at once and before the transaction, which then holds its locks only briefly.
  // Both are answered from recent reads of the parent while a burst of creates asks them again.
  const [, room, rolePasswordEncrypted] = await settleInOrder([
    validateRulesOn(sourceUri, parentDatabases, rules),
    measureCloneRoom(sourceUri, parentDatabases.map((d) => d.physicalName), { maxAgeMs: PARENT_SIZE_MAX_AGE_MS }),
    svc.secrets.seal(newPassword()),
  ]);
  assertRulesCoverProject(principal, project, rules);
  const name = options.name ?? id;

  return svc.db.transaction(async (tx) => {
    // The limits and the port allocation are serialised per server and globally: both locks in one
    // statement, always in this order. Everything below runs under them.
    await tx.execute(sql`SELECT ${cloneLimitsLock(project)}, ${endpointPortsLock}`);
    // The checks and the branch's row in one round trip. The checks never count the new branch, so they
    // hold in whichever order the server runs them; one that fails throws, and the row goes with the rollback.
    const role = branchRoleName(id);
    const [, , [branch]] = await settleInOrder([
      findParent(tx).then((current) => {
        if (current.currentState !== "ready") throw conflict(`parent branch ${current.id} is not ready (state: ${current.currentState})`);
      }),
      // Quotas, the server's budget and free space.
      assertCloneFits(svc, tx, project, room, id),
      tx
        .insert(branches)
        .values({
          id,
          projectId,
          name,
          parentId: parent.id,
          protected: options.protected ?? false,
          currentState: "init",
          anonState: "created",
          statusMessage: "Waiting for a worker to clone the parent",
          endpointId: newEndpointId(),
          endpointPort: freeEndpointPortSql(svc.config),
          roleName: role,
          rolePasswordEncrypted,
          annotation: input.annotation_value ?? null,
          expiresAt,
          logicalSizeBytes: room.parentBytes,
        })
        .returning()
        .catch(async (error: unknown) => {
          if (!violates(error, "branches_project_name_key")) throw error;
          const [clash] = await svc.db
            .select({ id: branches.id })
            .from(branches)
            .where(and(eq(branches.projectId, projectId), eq(branches.name, name), isNull(branches.deletedAt)));
          throw conflict(`branch_create.branch.name: a branch named "${name}" already exists${clash ? ` (${clash.id})` : ""}`, "BRANCH_NAME_TAKEN");
        }),
    ]);
    if (branch!.endpointPort === null) throw endpointPortsExhausted(svc.config);
    // The rows that hang off the branch depend on nothing but it: one round trip.
    const operationId = newOperationId();
    const runId = input.start_anonymization ? randomUUID() : null;
    const job: CreateBranchJob = { branchId: id, operationId, runId };
    const [databases, , [operation]] = await settleInOrder([
      tx
        .insert(branchDatabases)
        .values(parentDatabases.map((d) => ({ branchId: id, name: d.name, physicalName: physicalDatabaseName(id, d.name), ownerName: role })))
        .returning(),
      insertRules(tx, id, rules),
      tx.insert(operations).values({ id: operationId, projectId, branchId: id, endpointId: branch!.endpointId, action: "create_branch" }).returning(),
      runId &&
        tx.insert(anonymizationRuns).values({
          id: runId,
          branchId: id,
          operationId,
          triggeredBy: principal.id,
          triggeredByUsername: principal.name,
          triggeredByRole: principal.role,
        }),
      enqueueJob(svc, tx, queues.createBranch, job),
      recordAudit(tx, principal, {
        action: "branch.create",
        projectId,
        branchId: id,
        after: { name, parent_id: parent.id, expires_at: expiresAt?.toISOString() ?? null, masking_rules: rules, start_anonymization: Boolean(input.start_anonymization) },
      }),
    ]);

    return {
      branch: presentBranch(branch!),
      endpoints: [presentEndpoint(branch!, endpointHost(svc.config, project, branch!))],
      operations: [presentOperation(operation!)],
      roles: [presentRole(id, project.ownerRoleName, branch!.createdAt, false)],
      databases: databases.map((d) => presentDatabase(d, project.ownerRoleName)),
    };
  });
}

export interface ListBranchesQuery {
  search?: string;
  sort_by: "name" | "created_at" | "updated_at";
  sort_order: "asc" | "desc";
  cursor?: string;
  limit?: number;
}

interface Cursor {
  v: string;
  id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeCursor(text: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(text, "base64url").toString()) as Cursor;
    if (typeof c.v === "string" && typeof c.id === "string") return c;
  } catch {
    // fall through
  }
  throw invalid("cursor: not a cursor returned by this API");
}

function annotationOf(b: BranchRow) {
  return {
    object: { type: "console/branch", id: b.id },
    value: b.annotation ?? {},
    created_at: b.createdAt.toISOString(),
    updated_at: b.updatedAt.toISOString(),
  };
}

/** One query (the project's liveness joined in), from the read cache when there is one. */
export async function listBranches(svc: Services, principal: Principal, projectId: string, query: ListBranchesQuery) {
  if (!canTouchProject(principal, projectId)) await loadProject(svc.db, principal, projectId); // throws 403
  const result = await readThrough(svc.cache, `branches:${projectId}:${JSON.stringify(query)}`, () => queryBranches(svc, projectId, query));
  // No row at all: a project that does not exist, or a page past the end (a project always has its default branch).
  if (result.branches.length === 0) await loadProject(svc.db, principal, projectId);
  return result;
}

async function queryBranches(svc: Services, projectId: string, query: ListBranchesQuery) {
  const column = { name: branches.name, created_at: branches.createdAt, updated_at: branches.updatedAt }[query.sort_by];
  const filters: (SQL | undefined)[] = [eq(branches.projectId, projectId), isNull(branches.deletedAt)];
  if (query.search) {
    const pattern = `%${query.search.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    filters.push(or(ilike(branches.name, pattern), ilike(branches.id, pattern)));
  }
  if (query.cursor) {
    const c = decodeCursor(query.cursor);
    const value = query.sort_by === "name" ? c.v : new Date(c.v);
    const after = query.sort_order === "asc" ? gt : lt;
    filters.push(or(after(column, value), and(eq(column, value), after(branches.id, c.id))));
  }
  const order = query.sort_order === "asc" ? asc : desc;
  const base = svc.db
    .select({ branch: branches })
    .from(branches)
    .innerJoin(projects, and(eq(projects.id, branches.projectId), isNull(projects.deletedAt)))
    .where(and(...filters))
    .orderBy(order(column), order(branches.id));
  const rows = (query.limit ? await base.limit(query.limit) : await base).map((r) => r.branch);
  const last = rows.at(-1);
  const annotations = Object.fromEntries(rows.filter((b) => b.annotation).map((b) => [b.id, annotationOf(b)]));
  return {
    branches: rows.map(presentBranch),
    annotations,
    pagination:
      query.limit && last && rows.length === query.limit
        ? {
            next: encodeCursor({ v: query.sort_by === "name" ? last.name : (query.sort_by === "created_at" ? last.createdAt : last.updatedAt).toISOString(), id: last.id }),
            sort_by: query.sort_by,
            sort_order: query.sort_order,
          }
        : { sort_by: query.sort_by, sort_order: query.sort_order },
  };
}

export async function getBranch(svc: Services, principal: Principal, projectId: string, branchId: string) {
  return branchOf((await loadBranchView(svc, principal, projectId, branchId)).branch);
}

/** Presented once per row the read cache serves (src/lib/memo.ts). */
const branchOf = memoized((branch: BranchRow) => ({ branch: presentBranch(branch), annotation: branch.annotation ? annotationOf(branch) : undefined }));

/** Marks the branch deleted at once (gone from GET and lists) and enqueues the drop. */
export async function deleteBranchInTx(svc: Services, tx: Tx, branch: BranchRow, opts: { force?: boolean } = {}) {
  if (!opts.force) await assertBranchIdle(tx, branch.id);
  const now = new Date();
  await tx.update(branches).set({ deletedAt: now, updatedAt: now }).where(eq(branches.id, branch.id));
  const [operation] = await tx
    .insert(operations)
    .values({ id: newOperationId(), projectId: branch.projectId, branchId: branch.id, action: "delete_timeline" })
    .returning();
  const job: DeleteBranchJob = { branchId: branch.id, operationId: operation!.id };
  await enqueueJob(svc, tx, queues.deleteBranch, job);
  return presentOperation(operation!);
}

export async function deleteBranch(svc: Services, principal: Principal, projectId: string, branchId: string) {
  await loadProject(svc.db, principal, projectId);
  return svc.db.transaction(async (tx) => {
    // Deleting twice is harmless: the second call answers with the deleted branch.
    const [gone] = await tx.select().from(branches).where(and(eq(branches.id, branchId), eq(branches.projectId, projectId)));
    if (gone?.deletedAt) return { branch: presentBranch(gone), operations: [] };
    const branch = await loadBranch(tx, projectId, branchId, { forUpdate: true });
    if (branch.isDefault) throw invalid(`branch ${branchId} is the project's default branch and cannot be deleted`, "DEFAULT_BRANCH");
    if (branch.protected && principal.role !== "admin") {
      throw new DomainError("forbidden", "FORBIDDEN", `branch ${branchId} is protected; only an admin can delete it`);
    }
    const [child] = await tx
      .select({ id: branches.id })
      .from(branches)
      .where(and(eq(branches.parentId, branch.id), isNull(branches.deletedAt)))
      .limit(1);
    if (child) throw conflict(`branch ${branchId} has child branch ${child.id}; delete its children first`, "BRANCH_HAS_CHILDREN");
    const operation = await deleteBranchInTx(svc, tx, branch);
    await recordAudit(tx, principal, { action: "branch.delete", projectId, branchId: branch.id, before: { name: branch.name } });
    const [after] = await tx.select().from(branches).where(eq(branches.id, branch.id));
    return { branch: presentBranch(after!), operations: [operation] };
  });
}
