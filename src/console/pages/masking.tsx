// Data Masking pages: a branch's rules ("Apply" = PATCH the rules, then start
// anonymization, then a live progress bar) and the project's rules (PUT,
// admin). Live validation posts one rule to the same checks the API runs and
// answers the API's own envelope.
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { describeZodError, httpStatusOf } from "../../api/errors.ts";
import { MaskingRulesSchema } from "../../api/schemas.ts";
import { getAnonymizedStatus, startAnonymization } from "../../control/anonymization.ts";
import { getBranch } from "../../control/branches.ts";
import { getMaskingRules, replaceMaskingRules, RulesRejected } from "../../control/masking-rules.ts";
import { checkMaskingRules, checkProjectMaskingRules, maskingSchema } from "../../control/masking-schema.ts";
import { getProjectMaskingRules, replaceProjectMaskingRules } from "../../control/project-rules.ts";
import { getProject } from "../../control/projects.ts";
import { sensitiveColumns } from "../../control/sensitive-columns.ts";
import { DomainError } from "../../lib/errors.ts";
import type { MaskingRule } from "../../masking/types.ts";
import type { ConsoleEnv } from "../env.ts";
import { Flash, page, progressOf, workPending } from "../layout.tsx";
import { columnKey, rulesFromForm, selectionsOf, type Selection } from "../masking-form.ts";
import { MaskingEditor } from "./masking-editor.tsx";

type StatusView = Awaited<ReturnType<typeof getAnonymizedStatus>>;

interface Outcome {
  flash?: { message: string; error?: boolean };
  selections?: Map<string, Selection>;
  problems?: Map<string, string[]>;
  status?: ContentfulStatusCode;
}

const done: Record<string, string> = {
  applied: "Masking rules saved; anonymization started.",
  saved: "Project masking rules saved.",
};

/** Messages of a refused rule set, by the column each refused rule is for. */
function problemsOf(error: unknown, rules: MaskingRule[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!(error instanceof RulesRejected)) return out;
  for (const p of error.problems) {
    const rule = rules[p.index];
    if (!rule) continue;
    const key = columnKey(rule);
    out.set(key, [...(out.get(key) ?? []), p.message]);
  }
  return out;
}

/** "last run by alice, started 2026-05-01 10:00 UTC, 3 columns masked" (the client script writes the same). */
function runSummary(run: NonNullable<StatusView["last_run"]>): string {
  const started = run.started_at ? `started ${run.started_at.slice(0, 10)} ${run.started_at.slice(11, 16)} UTC` : "not started yet";
  return `last run by ${run.triggered_by_username}, ${started}, ${run.masked_columns} ${run.masked_columns === 1 ? "column" : "columns"} masked`;
}

function StatusPanel({ status, url }: { status: StatusView; url: string }) {
  const progress = progressOf(status.state, status.status_message);
  const run = status.last_run;
  return (
    <section class="progress" aria-labelledby="status-h" data-status-url={url} data-state={status.state} data-pending={String(workPending(status))}>
      <h2 id="status-h">Anonymization</h2>
      <p>
        State: <strong data-status-state>{status.state}</strong>
        <span class="muted" data-status-run>
          {run ? ` · ${runSummary(run)}` : ""}
        </span>
      </p>
      <label for="anon-progress">Progress</label>
      <progress id="anon-progress" max={progress.max} value={progress.value}>
        {progress.text}
      </progress>
      <p data-status-message role="status">
        {status.status_message}
      </p>
    </section>
  );
}

async function branchPage(c: Context<ConsoleEnv>, outcome: Outcome = {}) {
  const { projectId, branchId } = c.req.param() as { projectId: string; branchId: string };
  const svc = c.get("services");
  const principal = c.get("principal");
  const { project } = await getProject(svc, principal, projectId);
  const { branch } = await getBranch(svc, principal, projectId, branchId);
  const status = await getAnonymizedStatus(svc, principal, projectId, branchId);
  const { masking_rules: current } = await getMaskingRules(svc, principal, projectId, branchId);
  const { databases } = await maskingSchema(svc, principal, projectId, branchId);
  const { columns } = await sensitiveColumns(svc, principal, projectId, { branchId });
  const locked = principal.role === "admin" ? [] : (await getProjectMaskingRules(svc, principal, projectId)).masking_rules;
  const base = `/console/projects/${projectId}/branches/${branchId}`;
  const flash = outcome.flash ?? (done[c.req.query("done") ?? ""] ? { message: done[c.req.query("done")!]! } : undefined);
  return page(
    c,
    {
      title: `Data Masking · ${branch.name}`,
      crumbs: [
        { label: "Projects", href: "/console/projects" },
        { label: project.name, href: `/console/projects/${projectId}` },
        { label: `${branch.name}: Data Masking` },
      ],
      status: outcome.status,
    },
    <>
      <h1>
        Data Masking · {branch.name} <span class="muted mono">{branch.id}</span>
      </h1>
      <Flash message={flash?.message} error={flash?.error} />
      <StatusPanel status={status} url={`${base}/status`} />
      <p>
        Pick how each column is masked, then apply: the rules replace the branch's whole set and the branch is masked
        again. {locked.length > 0 ? "Columns set by the project's rules stay as they are." : null}
      </p>
      <MaskingEditor
        databases={databases}
        sensitive={columns}
        current={current}
        selections={outcome.selections ?? selectionsOf(current, databases)}
        locked={locked}
        editable
        action={`${base}/masking`}
        validateUrl={`${base}/masking/validate`}
        submitLabel="Apply masking rules"
        csrf={c.get("csrf")}
        problems={outcome.problems ?? new Map()}
      />
    </>,
  );
}

async function projectRulesPage(c: Context<ConsoleEnv>, outcome: Outcome = {}) {
  const projectId = c.req.param("projectId")!;
  const svc = c.get("services");
  const principal = c.get("principal");
  const { project } = await getProject(svc, principal, projectId);
  const { masking_rules: current } = await getProjectMaskingRules(svc, principal, projectId);
  const { databases } = await maskingSchema(svc, principal, projectId);
  const { columns, coverage } = await sensitiveColumns(svc, principal, projectId);
  const admin = principal.role === "admin";
  const base = `/console/projects/${projectId}`;
  const flash = outcome.flash ?? (done[c.req.query("done") ?? ""] ? { message: done[c.req.query("done")!]! } : undefined);
  return page(
    c,
    {
      title: `Project masking rules · ${project.name}`,
      crumbs: [
        { label: "Projects", href: "/console/projects" },
        { label: project.name, href: base },
        { label: "Project masking rules" },
      ],
      status: outcome.status,
    },
    <>
      <h1>Project masking rules · {project.name}</h1>
      <Flash message={flash?.message} error={flash?.error} />
      <p>
        New branches get these rules when created without their own, and developer and ci keys must keep each of them.
        The scan finds {coverage.sensitive} columns that look like personal data; these rules mask {coverage.masked} of them.
      </p>
      {admin ? null : <p>Only an admin can change them.</p>}
      <MaskingEditor
        databases={databases}
        sensitive={columns}
        current={current}
        selections={outcome.selections ?? selectionsOf(current, databases)}
        locked={[]}
        editable={admin}
        action={`${base}/masking`}
        validateUrl={`${base}/masking/validate`}
        submitLabel="Save project rules"
        csrf={c.get("csrf")}
        problems={outcome.problems ?? new Map()}
      />
    </>,
  );
}

/** A refused change is shown on the page it came from, with the status the API would answer. */
function refusal(error: unknown, rules: MaskingRule[], selections: Map<string, Selection>, prefix = ""): Outcome {
  if (!(error instanceof DomainError) || error.kind === "unauthorized" || error.kind === "not_found") throw error;
  return {
    flash: { message: `${prefix}${error.message}`, error: true },
    selections,
    problems: problemsOf(error, rules),
    status: httpStatusOf(error),
  };
}

async function rulesOfJson(c: Context<ConsoleEnv>): Promise<MaskingRule[] | Response> {
  const parsed = MaskingRulesSchema.safeParse(await c.req.json().catch(() => undefined));
  if (!parsed.success) {
    return c.json({ code: "INVALID_REQUEST", message: describeZodError(parsed.error), request_id: c.get("requestId") }, 400);
  }
  return parsed.data.masking_rules;
}

export function registerMasking(app: Hono<ConsoleEnv>): void {
  const branch = "/projects/:projectId/branches/:branchId";

  app.get(`${branch}/masking`, (c) => branchPage(c));

  app.post(`${branch}/masking`, async (c) => {
    const { projectId, branchId } = c.req.param();
    const svc = c.get("services");
    const principal = c.get("principal");
    const { databases } = await maskingSchema(svc, principal, projectId, branchId);
    let parsed: ReturnType<typeof rulesFromForm>;
    try {
      parsed = rulesFromForm(await c.req.parseBody(), databases);
    } catch (error) {
      return branchPage(c, refusal(error, [], new Map()));
    }
    const { rules, selections } = parsed;
    try {
      await replaceMaskingRules(svc, principal, projectId, branchId, rules);
    } catch (error) {
      return branchPage(c, refusal(error, rules, selections));
    }
    try {
      await startAnonymization(svc, principal, projectId, branchId);
    } catch (error) {
      return branchPage(c, refusal(error, rules, selections, "Masking rules saved, but anonymization did not start: "));
    }
    return c.redirect(`/console/projects/${projectId}/branches/${branchId}/masking?done=applied`, 303);
  });

  app.post(`${branch}/masking/validate`, async (c) => {
    const rules = await rulesOfJson(c);
    if (rules instanceof Response) return rules;
    const { projectId, branchId } = c.req.param();
    return c.json(await checkMaskingRules(c.get("services"), c.get("principal"), projectId, branchId, rules));
  });

  app.get(`${branch}/status`, async (c) => {
    const { projectId, branchId } = c.req.param();
    return c.json(await getAnonymizedStatus(c.get("services"), c.get("principal"), projectId, branchId));
  });

  app.get("/projects/:projectId/masking", (c) => projectRulesPage(c));

  app.post("/projects/:projectId/masking", async (c) => {
    const projectId = c.req.param("projectId");
    const svc = c.get("services");
    const principal = c.get("principal");
    const { databases } = await maskingSchema(svc, principal, projectId);
    let parsed: ReturnType<typeof rulesFromForm> = { rules: [], selections: new Map() };
    try {
      parsed = rulesFromForm(await c.req.parseBody(), databases);
      await replaceProjectMaskingRules(svc, principal, projectId, parsed.rules);
    } catch (error) {
      if (error instanceof DomainError && error.kind === "forbidden") throw error; // admins only: the error page says so
      return projectRulesPage(c, refusal(error, parsed.rules, parsed.selections));
    }
    return c.redirect(`/console/projects/${projectId}/masking?done=saved`, 303);
  });

  app.post("/projects/:projectId/masking/validate", async (c) => {
    const rules = await rulesOfJson(c);
    if (rules instanceof Response) return rules;
    return c.json(await checkProjectMaskingRules(c.get("services"), c.get("principal"), c.req.param("projectId"), rules));
  });
}
