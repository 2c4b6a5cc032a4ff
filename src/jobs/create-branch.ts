// create-branch job: clone every parent database, install anon, create the
// branch role, apply the labels; then, when asked, the first anonymization run.
// Every step checks what is already done, so a retried job resumes.
import { setTimeout as sleep } from "node:timers/promises";
import type { Services } from "../control/context.ts";
import { storedRules } from "../control/masking-rules.ts";
import { cloneDatabase, ParentBusyError } from "../dataplane/clone.ts";
import { describeError, isTransient, withDataPlane } from "../dataplane/connection.ts";
import { disableEventTriggers, handOverObjects } from "../dataplane/anonymize.ts";
import { applyLabels, copyDatabaseSettings, grantMaskerConnect, prepareAnon } from "../dataplane/prepare.ts";
import { ensureBranchRoles, normalizeBranchRoles } from "../dataplane/roles.ts";
import { anonymizeBranch } from "./anonymize-branch.ts";
import { crashPoint } from "./crash-points.ts";
import { runBranchJob } from "./operations.ts";
import { TransientFailure, failWork, finishWork, setAnonState, setOperation, setStatus } from "./branch-state.ts";
import { loadJobContext, type JobContext } from "./job-context.ts";
import type { CreateBranchJob } from "./queues.ts";

/** How long a clone waits for sessions on the parent to end, in total. */
const BUSY_PARENT_WAIT_MS = 10 * 60_000;

export const runCreateBranch = (svc: Services, job: CreateBranchJob): Promise<void> => runBranchJob(svc, job, createBranch);

async function createBranch(svc: Services, job: CreateBranchJob): Promise<void> {
  const ctx = await loadJobContext(svc, job.branchId);
  if (!ctx || ctx.branch.deletedAt) {
    await setOperation(svc.db, job.operationId, "finished");
    return;
  }
  await setOperation(svc.db, job.operationId, "running");
  if (ctx.branch.anonState === "created") {
    const failure = await initialize(svc, ctx);
    if (failure) {
      await failWork(svc, { ...job, runId: job.runId ?? undefined }, "initialization_error", failure);
      return;
    }
    crashPoint("before-initialized");
    const initialized = "Initialized: databases cloned and masking rules applied; waiting for anonymization";
    if (!job.runId) {
      await finishWork(svc, { branchId: ctx.branch.id, anonState: "initialized", statusMessage: initialized, operationId: job.operationId });
      return;
    }
    await setAnonState(svc.db, ctx.branch.id, "initialized", initialized);
  }
  if (job.runId) {
    await anonymizeBranch(svc, { branchId: job.branchId, operationId: job.operationId, runId: job.runId });
  } else {
    await setOperation(svc.db, job.operationId, "finished"); // resumed after initialisation had been recorded
  }
}

/** Returns a failure message naming the database at fault, or null. */
export async function initialize(svc: Services, ctx: JobContext): Promise<string | null> {
  const { branch, databases, sourceUri } = ctx;
  const rules = await storedRules(svc.db, branch.id);
  let current = "";
  const roles = ctx.roles!;
  try {
    await withDataPlane(sourceUri, null, async (admin) => {
      await ensureBranchRoles(admin, roles);
      // A reset re-clones: undo whatever sessions of the roles changed about them first,
      // so that the masker's CONNECT on the fresh, unmasked copy reaches nobody else.
      await normalizeBranchRoles(admin, roles);
      crashPoint("after-role");
      for (const [i, d] of databases.entries()) {
        current = `cloning database ${d.name}`;
        if (!d.parentPhysicalName) throw new Error(`the parent branch has no database ${d.name}`);
        await setStatus(svc, branch.id, `Cloning database ${d.name} (${i + 1}/${databases.length})`);
        const strategy = await cloneWhenParentIsFree(svc, branch.id, () =>
          cloneDatabase(admin, d.parentPhysicalName!, d.physicalName, {
            strategy: svc.config.ANONBRANCH_CLONE_STRATEGY,
            walLogMaxMb: svc.config.ANONBRANCH_CLONE_WAL_LOG_MAX_MB,
          }),
        );
        if (strategy) svc.log.info("database cloned", { branch_id: branch.id, database: d.name, strategy });
        crashPoint("after-clone");
        current = `preparing database ${d.name}`;
        await grantMaskerConnect(admin, d.physicalName, roles.masker);
        await copyDatabaseSettings(admin, d.parentPhysicalName, d.physicalName);
        await setStatus(svc, branch.id, `Installing anon and applying masking rules in ${d.name} (${i + 1}/${databases.length})`);
        await withDataPlane(sourceUri, d.physicalName, async (sql) => {
          // First: the parent's event triggers would run on the admin's DDL below.
          await disableEventTriggers(sql);
          await prepareAnon(admin, d.physicalName, sql);
          crashPoint("after-prepare");
          await handOverObjects(sql, roles.owner);
          await applyLabels(sql, d.name, rules.filter((r) => r.database_name === d.name));
        });
      }
    });
    return null;
  } catch (error) {
    const message = `Initialization failed while ${current || "connecting to the data plane"}: ${describeError(error)}`;
    svc.log.warn("branch initialization failed", { branch_id: branch.id, step: current, error });
    if (isTransient(error)) throw new TransientFailure(message, { cause: error });
    return message;
  }
}

/**
 * CREATE DATABASE … TEMPLATE fails while anyone is connected to the parent.
 * Wait with backoff and say so; the parent's sessions are never terminated.
 */
async function cloneWhenParentIsFree<T>(svc: Services, branchId: string, clone: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + BUSY_PARENT_WAIT_MS;
  let delay = 500;
  for (;;) {
    try {
      return await clone();
    } catch (error) {
      if (!(error instanceof ParentBusyError) || Date.now() > deadline) throw error;
      await setStatus(svc, branchId, error.message);
      await sleep(delay);
      delay = Math.min(delay * 2, 10_000);
    }
  }
}
