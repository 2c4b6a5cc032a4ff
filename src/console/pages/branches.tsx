// A project's branches: state, progress, expiry, annotations; create an
// anonymized branch, delete, reset. Buttons are shown only where the API
// would allow the action to this principal; the verbs decide either way.
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { getAnonymizedStatus } from "../../control/anonymization.ts";
import { resetToParent } from "../../control/branch-lifecycle.ts";
import { createAnonymizedBranch, deleteBranch, listBranches } from "../../control/branches.ts";
import type { Principal } from "../../control/context.ts";
import { getProjectMaskingRules } from "../../control/project-rules.ts";
import { getProject } from "../../control/projects.ts";
import { httpStatusOf } from "../../api/errors.ts";
import { DomainError, invalid } from "../../lib/errors.ts";
import type { ConsoleEnv } from "../env.ts";
import { CsrfField, Flash, page, progressOf, StateBadge, Time } from "../layout.tsx";

const PAGE_SIZE = 50;
const HOUR = 3600;

type BranchView = Awaited<ReturnType<typeof listBranches>>["branches"][number];
type StatusView = Awaited<ReturnType<typeof getAnonymizedStatus>>;

const expiryChoices = [
  { seconds: HOUR, label: "in 1 hour" },
  { seconds: 24 * HOUR, label: "in 1 day" },
  { seconds: 7 * 24 * HOUR, label: "in 7 days" },
];

const done: Record<string, string> = {
  created: "Branch created: it is being cloned and masked.",
  deleted: "Branch deleted: its databases are being dropped.",
  reset: "Branch reset: it is being cloned from its parent and masked again.",
};

const canDelete = (p: Principal, b: BranchView) => !b.default && (!b.protected || p.role === "admin");

function BranchRow({ b, status, annotation, csrf, principal }: {
  b: BranchView; status?: StatusView; annotation?: Record<string, string>; csrf: string; principal: Principal;
}) {
  const base = `/console/projects/${b.project_id}/branches/${b.id}`;
  const progress = status ? progressOf(status.state, status.status_message) : null;
  return (
    <tr>
      <th scope="row" data-label="Branch">
        {b.anonymized ? <a href={`${base}/masking`}>{b.name}</a> : b.name}
        <div class="muted mono">{b.id}</div>
        {b.default ? <span class="badge">default</span> : null}
        {b.protected ? <span class="badge">protected</span> : null}
      </th>
      <td data-label="State">
        <StateBadge state={b.current_state} />
        {status ? <StateBadge state={status.state} /> : null}
      </td>
      <td data-label="Progress">
        {status && progress ? (
          <>
            <progress max={progress.max} value={progress.value} aria-label={`Anonymization of ${b.name}`}>
              {progress.text}
            </progress>
            <div class="muted">{status.status_message}</div>
          </>
        ) : (
          <span class="muted">not anonymized</span>
        )}
      </td>
      <td data-label="Expires">
        <Time iso={b.expires_at} />
      </td>
      <td data-label="Annotations">
        {annotation && Object.keys(annotation).length > 0 ? (
          <ul class="links">
            {Object.entries(annotation).map(([k, v]) => (
              <li>
                <code>{k}</code>: {v}
              </li>
            ))}
          </ul>
        ) : (
          <span class="muted">none</span>
        )}
      </td>
      <td data-label="Actions">
        <div class="actions">
          {b.anonymized ? <a href={`${base}/masking`}>Data Masking</a> : null}
          {b.anonymized && status && status.state !== "created" && status.state !== "initialization_error" ? (
            <form method="post" action={`${base}/reset`} class="inline">
              <CsrfField csrf={csrf} />
              <button type="submit" class="secondary" aria-label={`Reset ${b.name} to its parent`}>Reset</button>
            </form>
          ) : null}
          {canDelete(principal, b) ? (
            <form method="post" action={`${base}/delete`} class="inline">
              <CsrfField csrf={csrf} />
              <button type="submit" class="danger" aria-label={`Delete ${b.name}`}>Delete</button>
            </form>
          ) : null}
        </div>
      </td>
    </tr>
  );
}

function CreateForm({ projectId, principal, ciMaxSeconds, csrf }: { projectId: string; principal: Principal; ciMaxSeconds: number; csrf: string }) {
  const ci = principal.role === "ci";
  const choices = ci ? expiryChoices.filter((c) => c.seconds <= ciMaxSeconds) : expiryChoices;
  return (
    <form method="post" action={`/console/projects/${projectId}/branches`}>
      <CsrfField csrf={csrf} />
      <div class="field">
        <label for="branch-name">Name</label>
        <input id="branch-name" name="name" type="text" maxlength={256} aria-describedby="branch-name-hint" />
        <p id="branch-name-hint" class="hint">Optional: the branch id is used when left empty.</p>
      </div>
      <div class="field">
        <label for="branch-expires">Expires</label>
        <select id="branch-expires" name="expires_in" required={ci}>
          {ci ? null : <option value="">never</option>}
          {choices.map((c) => (
            <option value={String(c.seconds)}>{c.label}</option>
          ))}
        </select>
      </div>
      <div class="field check">
        <input id="branch-start" name="start_anonymization" type="checkbox" value="1" checked />
        <label for="branch-start">Start anonymization right away</label>
      </div>
      <p class="hint">The branch is masked with the project's masking rules; change them for this branch on its Data Masking page.</p>
      <button type="submit">Create anonymized branch</button>
    </form>
  );
}

async function projectPage(c: Context<ConsoleEnv>, projectId: string, flash?: { message: string; error?: boolean }, status: ContentfulStatusCode = 200) {
  const svc = c.get("services");
  const principal = c.get("principal");
  const { project } = await getProject(svc, principal, projectId);
  const { masking_rules: projectRules } = await getProjectMaskingRules(svc, principal, projectId);
  const cursor = c.req.query("cursor") || undefined;
  const list = await listBranches(svc, principal, projectId, { sort_by: "created_at", sort_order: "desc", limit: PAGE_SIZE, cursor });
  const statuses = new Map<string, StatusView>();
  for (const b of list.branches) if (b.anonymized) statuses.set(b.id, await getAnonymizedStatus(svc, principal, projectId, b.id));
  const admin = principal.role === "admin";
  const message = flash ?? (done[c.req.query("done") ?? ""] ? { message: done[c.req.query("done")!]! } : undefined);
  const base = `/console/projects/${projectId}`;
  return page(
    c,
    { title: project.name, crumbs: [{ label: "Projects", href: "/console/projects" }, { label: project.name }], status },
    <>
      <h1>
        Project {project.name} <span class="muted mono">{project.id}</span>
      </h1>
      <Flash message={message?.message} error={message?.error} />
      <ul class="links">
        <li>
          <a href={`${base}/masking`}>Project masking rules</a> ({projectRules.length})
        </li>
        {admin ? (
          <li>
            <a href={`${base}/audit`}>Audit log</a>
          </li>
        ) : null}
      </ul>
      <h2 id="branches-h">Branches</h2>
      <div class="table-wrap">
        <table class="stack" aria-labelledby="branches-h">
          <thead>
            <tr>
              <th scope="col">Branch</th>
              <th scope="col">State</th>
              <th scope="col">Progress</th>
              <th scope="col">Expires</th>
              <th scope="col">Annotations</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.branches.map((b) => (
              <BranchRow b={b} status={statuses.get(b.id)} annotation={list.annotations[b.id]?.value} csrf={c.get("csrf")} principal={principal} />
            ))}
          </tbody>
        </table>
      </div>
      {list.pagination.next ? (
        <p>
          <a href={`${base}?cursor=${encodeURIComponent(list.pagination.next)}`}>Older branches</a>
        </p>
      ) : null}
      <h2>New anonymized branch</h2>
      {admin || projectRules.length > 0 ? (
        <CreateForm projectId={projectId} principal={principal} ciMaxSeconds={svc.config.ANONBRANCH_CI_MAX_TTL_SECONDS} csrf={c.get("csrf")} />
      ) : (
        <p>An admin must set the project's masking rules before {principal.role} keys can create branches.</p>
      )}
    </>,
  );
}

/** Runs an action; a refusal the verb explains is shown on the project page, with the status the API would answer. */
async function orExplain(c: Context<ConsoleEnv>, projectId: string, action: () => Promise<string>) {
  try {
    return c.redirect(`/console/projects/${projectId}?done=${await action()}`, 303);
  } catch (error) {
    if (!(error instanceof DomainError) || ["unauthorized", "forbidden", "not_found", "unavailable"].includes(error.kind)) throw error;
    return projectPage(c, projectId, { message: error.message, error: true }, httpStatusOf(error));
  }
}

export function registerBranches(app: Hono<ConsoleEnv>): void {
  app.get("/projects/:projectId", (c) => projectPage(c, c.req.param("projectId")));

  app.post("/projects/:projectId/branches", async (c) => {
    const projectId = c.req.param("projectId");
    const form = await c.req.parseBody();
    const name = typeof form.name === "string" ? form.name.trim() : "";
    const expiresIn = typeof form.expires_in === "string" ? form.expires_in : "";
    return orExplain(c, projectId, async () => {
      if (name.length > 256) throw invalid("branch name: at most 256 characters");
      if (expiresIn !== "" && !expiryChoices.some((e) => String(e.seconds) === expiresIn)) throw invalid("expires: not one of the offered choices");
      const expires_at = expiresIn ? new Date(Date.now() + Number(expiresIn) * 1000).toISOString() : undefined;
      await createAnonymizedBranch(c.get("services"), c.get("principal"), projectId, {
        branch_create: { branch: { name: name || undefined, expires_at } },
        start_anonymization: form.start_anonymization === "1",
      });
      return "created";
    });
  });

  app.post("/projects/:projectId/branches/:branchId/delete", (c) => {
    const { projectId, branchId } = c.req.param();
    return orExplain(c, projectId, async () => {
      await deleteBranch(c.get("services"), c.get("principal"), projectId, branchId);
      return "deleted";
    });
  });

  app.post("/projects/:projectId/branches/:branchId/reset", (c) => {
    const { projectId, branchId } = c.req.param();
    return orExplain(c, projectId, async () => {
      await resetToParent(c.get("services"), c.get("principal"), projectId, branchId);
      return "reset";
    });
  });
}
