// anonymize job: import labels users set over SQL (re-validated like API
// rules), re-apply every rule in canonical form, mask table by table with
// progress, harden, and hand the branch to its role.
import { eq } from "drizzle-orm";
import type { Services } from "../control/context.ts";
import { loadCatalogs, liveRules, mergeRules, storedRules } from "../control/masking-rules.ts";
import { branches } from "../db/schema.ts";
import { describeError, isTransient, withDataPlane } from "../dataplane/connection.ts";
import { grantAccess, handOverObjects, hardenDatabase, maskTables, maskedTables, type MaskedTable } from "../dataplane/anonymize.ts";
import { applyLabels } from "../dataplane/prepare.ts";
import type { MaskingRule } from "../masking/types.ts";
import { validateMaskingRules } from "../masking/validate.ts";
import { TransientFailure, failWork, finishWork, setAnonState, setOperation, setRun, setStatus } from "./branch-state.ts";
import { loadJobContext, type JobContext } from "./job-context.ts";
import type { AnonymizeBranchJob } from "./queues.ts";
import { crashPoint } from "./crash-points.ts";
import { runBranchJob } from "./operations.ts";

class RunFailure extends Error {}

export const runAnonymization = (svc: Services, job: AnonymizeBranchJob): Promise<void> =>
  runBranchJob(svc, job, anonymizeBranch);

/** The run itself; the caller holds the branch lock. */
export async function anonymizeBranch(svc: Services, job: AnonymizeBranchJob): Promise<void> {
  const ctx = await loadJobContext(svc, job.branchId);
  if (!ctx || ctx.branch.deletedAt) {
    await setOperation(svc.db, job.operationId, "finished");
    return;
  }
  await svc.db.transaction(async (tx) => {
    await setOperation(tx, job.operationId, "running");
    await setRun(tx, job.runId, { status: "running", startedAt: new Date(), completedAt: null, error: null });
    await setAnonState(tx, ctx.branch.id, "anonymizing", "Preparing anonymization");
  });
  try {
    const maskedColumns = await anonymize(svc, ctx);
    crashPoint("before-anonymized");
    const message = `Anonymized ${maskedColumns} column${maskedColumns === 1 ? "" : "s"}`;
    await finishWork(svc, {
      branchId: ctx.branch.id,
      anonState: "anonymized",
      statusMessage: message,
      branch: { currentState: "ready", stateChangedAt: new Date() },
      operationId: job.operationId,
      runId: job.runId,
      run: { status: "succeeded", maskedColumns },
    });
  } catch (error) {
    const message = error instanceof RunFailure ? error.message : `Anonymization failed: ${describeError(error)}`;
    svc.log.warn("anonymization failed", { branch_id: ctx.branch.id, error: message });
    if (isTransient(error)) throw new TransientFailure(message, { cause: error });
    await failWork(svc, job, "error", message);
  }
}

/** Brings stored rules up to date with labels set over SQL, after validating them. */
export async function syncRules(svc: Services, ctx: JobContext): Promise<MaskingRule[]> {
  const stored = await storedRules(svc.db, ctx.branch.id);
  const live = await liveRules(ctx.sourceUri, ctx.databases);
  const merged = mergeRules(stored, live);
  if (JSON.stringify(merged) === JSON.stringify(stored)) return stored;
  const problems = await validateMaskingRules(merged, await loadCatalogs(ctx.sourceUri, ctx.databases));
  if (problems.length > 0) {
    throw new RunFailure(`A masking rule found on the branch was refused: ${problems.map((p) => p.message).join("; ")}`);
  }
  return merged;
}

async function anonymize(svc: Services, ctx: JobContext): Promise<number> {
  const rules = await syncRules(svc, ctx);
  crashPoint("after-sync");
  const role = ctx.branch.roleName!;
  const plan: { db: JobContext["databases"][number]; tables: MaskedTable[] }[] = [];
  for (const d of ctx.databases) {
    const own = rules.filter((r) => r.database_name === d.name);
    const tables = await withDataPlane(ctx.sourceUri, d.physicalName, async (sql) => {
      await handOverObjects(sql, role);
      await applyLabels(sql, d.name, own);
      return maskedTables(sql);
    });
    plan.push({ db: d, tables });
  }
  const total = plan.reduce((n, p) => n + p.tables.length, 0);
  let done = 0;
  for (const { db, tables } of plan) {
    let current = "";
    try {
      await withDataPlane(ctx.sourceUri, db.physicalName, (sql) =>
        maskTables(sql, role, tables, async (t, i) => {
          if (i === 1) crashPoint("mid-table");
          current = `${db.name}.${t.schema}.${t.table}`;
          done += 1;
          await setStatus(svc, ctx.branch.id, `Anonymizing table ${current} (${done}/${total})`);
        }),
      );
    } catch (error) {
      throw new RunFailure(`Anonymizing table ${current} failed: ${describeError(error)}`, { cause: error });
    }
  }
  crashPoint("after-mask");
  for (const { db, tables } of plan) {
    await setStatus(svc, ctx.branch.id, `Hardening ${db.name}: rewriting ${tables.length} masked tables, refreshing statistics and materialized views`);
    await withDataPlane(ctx.sourceUri, db.physicalName, (sql) => hardenDatabase(sql, tables, () => crashPoint("mid-harden")));
  }
  crashPoint("before-grant");
  await setStatus(svc, ctx.branch.id, `Opening the branch to role ${role}`);
  await withDataPlane(ctx.sourceUri, null, async (admin) => {
    for (const { db } of plan) await grantAccess(admin, db.physicalName, role);
  });
  await svc.db.update(branches).set({ updatedAt: new Date() }).where(eq(branches.id, ctx.branch.id));
  return plan.reduce((n, p) => n + p.tables.reduce((m, t) => m + t.columns, 0), 0);
}
