// The project's audit log (admin only: listAuditLog refuses other roles).
import type { Hono } from "hono";
import { listAuditLog } from "../../control/audit.ts";
import { getProject } from "../../control/projects.ts";
import { invalid } from "../../lib/errors.ts";
import type { ConsoleEnv } from "../env.ts";
import { page, Time } from "../layout.tsx";

const PAGE_SIZE = 50;

const Json = ({ label, value }: { label: string; value: unknown }) =>
  value === undefined ? null : (
    <details>
      <summary>{label}</summary>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </details>
  );

export function registerAudit(app: Hono<ConsoleEnv>): void {
  app.get("/projects/:projectId/audit", async (c) => {
    const projectId = c.req.param("projectId");
    const svc = c.get("services");
    const principal = c.get("principal");
    const rawCursor = c.req.query("cursor");
    const cursor = rawCursor ? Number(rawCursor) : undefined;
    if (cursor !== undefined && !(Number.isSafeInteger(cursor) && cursor > 0)) throw invalid("cursor: not a cursor of this page");
    const { events, pagination } = await listAuditLog(svc, principal, projectId, { limit: PAGE_SIZE, cursor });
    const { project } = await getProject(svc, principal, projectId);
    const base = `/console/projects/${projectId}`;
    return page(
      c,
      {
        title: `Audit log · ${project.name}`,
        crumbs: [
          { label: "Projects", href: "/console/projects" },
          { label: project.name, href: base },
          { label: "Audit log" },
        ],
      },
      <>
        <h1>Audit log · {project.name}</h1>
        {events.length === 0 ? (
          <p>No event yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="stack">
              <caption class="visually-hidden">Audit events, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">What</th>
                  <th scope="col">Branch</th>
                  <th scope="col">Change</th>
                </tr>
              </thead>
              <tbody>
                {events.map((e) => (
                  <tr>
                    <td data-label="When">
                      <Time iso={e.time} />
                    </td>
                    <td data-label="Who">
                      {e.actor.name} <span class="muted">({e.actor.role})</span>
                    </td>
                    <td data-label="What">
                      <code>{e.action}</code>
                    </td>
                    <td data-label="Branch">{e.branch_id ? <code>{e.branch_id}</code> : <span class="muted">—</span>}</td>
                    <td data-label="Change">
                      <Json label="before" value={e.before} />
                      <Json label="after" value={e.after} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {pagination ? (
          <p>
            <a href={`${base}/audit?cursor=${encodeURIComponent(pagination.cursor)}`}>Older events</a>
          </p>
        ) : null}
      </>,
    );
  });
}
