// anonymize job: import labels users set over SQL (checked like a
// developer's rules), re-apply every rule in canonical form, mask table by
// table with progress and harden — both in a session logged in as the
// branch's masker, never as superuser — and hand the branch to its role.
import { eq } from "drizzle-orm";
import type { Services } from "../control/context.ts";
import type { Principal } from "../control/context.ts";
import { LabelRefused, rulesForRun } from "../control/label-import.ts";
import { anonymizationRuns, branches } from "../db/schema.ts";
import { describeError, isTransient, withDataPlane } from "../dataplane/connection.ts";
import {
  disableEventTriggers,
  grantAccess,
  handOverObjects,
  maskDatabase,
  TableMaskingFailed,
  type MaskingProgress,
} from "../dataplane/anonymize.ts";
import { planMasking, type TablePlan } from "../dataplane/masking-plan.ts";
import { endUserSessions } from "../dataplane/login.ts";
import { applyLabels } from "../dataplane/prepare.ts";
import { normalizeBranchRoles } from "../dataplane/roles.ts";
import { withMaskerSession } from "../dataplane/sessions.ts";
import type { MaskingRule } from "../masking/types.ts";
import { TransientFailure, failWork, finishWork, setAnonState, setOperation, setRun, setStatus } from "./branch-state.ts";
import { loadJobContext, type JobContext } from "./job-context.ts";
import type { AnonymizeBranchJob } from "./queues.ts";
import { crashPoint } from "./crash-points.ts";
import { runBranchJob } from "./operations.ts";

export class RunFailure extends Error {}

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
    const masked = await anonymize(svc, ctx, job.runId);
    const maskedColumns = masked.columns;
    crashPoint("before-anonymized");
    const rewritten = masked.tables.filter((t) => t.path === "rewrite").length;
    const paths = masked.tables.length === 0 ? "" : ` in ${masked.tables.length} table${masked.tables.length === 1 ? "" : "s"} (${rewritten} rewritten in one pass, ${masked.tables.length - rewritten} by anon.anonymize_table)`;
    const message = `Anonymized ${maskedColumns} column${maskedColumns === 1 ? "" : "s"}${paths}`;
    await finishWork(svc, {
      branchId: ctx.branch.id,
      anonState: "anonymized",
      statusMessage: message,
      // The run wrote every label from the stored rules; no client has connected since it began.
      branch: { currentState: "ready", stateChangedAt: new Date(), userSessionsSinceRun: false },
      operationId: job.operationId,
      runId: job.runId,
      run: { status: "succeeded", maskedColumns, tables: masked.tables },
    });
  } catch (error) {
    const message = error instanceof RunFailure ? error.message : `Anonymization failed: ${describeError(error)}`;
    svc.log.warn("anonymization failed", { branch_id: ctx.branch.id, error: message });
    if (isTransient(error)) throw new TransientFailure(message, { cause: error });
    await failWork(svc, job, "error", message);
  }
}

/** Who triggered a run, as the principal its label imports are audited under. */
export async function runTrigger(svc: Services, runId: string): Promise<Principal> {
  const [run] = await svc.db.select().from(anonymizationRuns).where(eq(anonymizationRuns.id, runId));
  return { id: run?.triggeredBy ?? "system", name: run?.triggeredByUsername ?? "anonbranch", role: run?.triggeredByRole ?? "admin", projects: "*" };
}

/**
 * The rules the run applies (labels set over SQL folded in and checked as a
 * developer's rules would be, src/control/label-import.ts). A refused label
 * is a RunFailure: nothing has been changed on the data plane yet.
 */
export async function checkedRules(svc: Services, ctx: JobContext, runId: string): Promise<MaskingRule[]> {
  try {
    return await rulesForRun(
      svc,
      { branchId: ctx.branch.id, project: ctx.project, sourceUri: ctx.sourceUri, databases: ctx.databases },
      await runTrigger(svc, runId),
    );
  } catch (error) {
    if (error instanceof LabelRefused) throw new RunFailure(error.message, { cause: error });
    throw error;
  }
}

interface Masked {
  columns: number;
  tables: NonNullable<RunChanges["tables"]>;
}
type RunChanges = Partial<typeof anonymizationRuns.$inferInsert>;

async function anonymize(svc: Services, ctx: JobContext, runId: string): Promise<Masked> {
  const rules = await checkedRules(svc, ctx, runId);
  crashPoint("after-sync");
  const roles = ctx.roles!;
  // Undo what sessions of the branch's roles may have changed about them (memberships, settings),
  // and end the branch users' sessions: the tables are about to be rewritten under them.
  await withDataPlane(ctx.sourceUri, null, async (admin) => {
    await normalizeBranchRoles(admin, roles);
    await endUserSessions(admin, roles, ctx.databases.map((d) => d.physicalName));
  });
  const plan: { db: JobContext["databases"][number]; tables: TablePlan[] }[] = [];
  for (const d of ctx.databases) {
    const own = rules.filter((r) => r.database_name === d.name);
    const tables = await withDataPlane(ctx.sourceUri, d.physicalName, async (sql) => {
      await disableEventTriggers(sql);
      await handOverObjects(sql, roles.owner);
      await applyLabels(sql, d.name, own);
      return planMasking(sql, svc.config.ANONBRANCH_MASKING_STRATEGY);
    });
    assertPlanMatchesRules(d.name, tables, own);
    plan.push({ db: d, tables });
  }
  const total = plan.reduce((n, p) => n + p.tables.length, 0);
  const parallelism = svc.config.ANONBRANCH_MASKING_PARALLELISM;
  const outcomes: Masked["tables"] = [];
  let started = 0;
  let hardened = 0;
  const running = new Set<string>();
  for (const { db, tables } of plan) {
    const progress: MaskingProgress = {
      async onStart(t) {
        started += 1;
        if (started === 2) crashPoint("mid-table");
        running.add(`${db.name}.${t.schema}.${t.table}`);
        await setStatus(svc, ctx.branch.id, `Anonymizing table ${[...running].join(", ")} (${started}/${total})`);
      },
      async onHarden(t) {
        await setStatus(svc, ctx.branch.id, `Hardening table ${db.name}.${t.schema}.${t.table}: rewriting it and refreshing its statistics`);
      },
      async onDone(o) {
        running.delete(`${db.name}.${o.schema}.${o.table}`);
        outcomes.push({ database: db.name, ...o });
        hardened += 1;
        if (hardened === 1) crashPoint("mid-harden");
      },
    };
    try {
      await withMaskerSession(
        ctx.sourceUri, db.physicalName, roles,
        (masker) => maskDatabase(masker, tables, parallelism, progress),
        Math.max(1, Math.min(parallelism, tables.length)),
      );
    } catch (error) {
      if (isTransient(error)) throw error;
      const what = error instanceof TableMaskingFailed ? `table ${db.name}.${error.table}` : `database ${db.name}`;
      throw new RunFailure(`Anonymizing ${what} failed: ${describeError(error instanceof TableMaskingFailed ? error.cause : error)}`, { cause: error });
    }
  }
  crashPoint("after-mask");
  crashPoint("before-grant");
  await setStatus(svc, ctx.branch.id, `Opening the branch to role ${roles.owner}`);
  await withDataPlane(ctx.sourceUri, null, async (admin) => {
    for (const { db } of plan) await grantAccess(admin, db.physicalName, roles.owner);
  });
  await svc.db.update(branches).set({ updatedAt: new Date() }).where(eq(branches.id, ctx.branch.id));
  return { columns: outcomes.reduce((n, t) => n + t.columns, 0), tables: outcomes };
}

/**
 * The labels the masker will apply must be exactly the rules just checked: a
 * session that slipped in while the run began could have changed one since.
 */
function assertPlanMatchesRules(database: string, tables: TablePlan[], rules: MaskingRule[]): void {
  const expected = new Map(rules.map((r) => [`${r.schema_name}.${r.table_name}.${r.column_name}`, (r.masking_function ?? r.masking_value ?? "").trim()]));
  const planned = tables.flatMap((t) => t.columns.map((c) => [`${t.schema}.${t.table}.${c.name}`, c.expression.trim()] as const));
  const changed = planned.filter(([key, expression]) => expected.get(key) !== expression).map(([key]) => `${database}.${key}`);
  if (changed.length > 0 || planned.length !== expected.size) {
    throw new RunFailure(
      `The masking labels changed while the run was starting (${changed.join(", ") || "a label was removed"}); nothing was masked. Start anonymization again`,
    );
  }
}
