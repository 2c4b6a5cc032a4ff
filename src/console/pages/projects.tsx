// The projects the signed-in key may see (listProjects filters by scope).
import type { Hono } from "hono";
import { listProjects } from "../../control/projects.ts";
import type { ConsoleEnv } from "../env.ts";
import { page, Time } from "../layout.tsx";

const PAGE_SIZE = 50;

export function registerProjects(app: Hono<ConsoleEnv>): void {
  app.get("/projects", async (c) => {
    const cursor = c.req.query("cursor") || undefined;
    const { projects, pagination } = await listProjects(c.get("services"), c.get("principal"), { limit: PAGE_SIZE, cursor });
    return page(
      c,
      { title: "Projects", crumbs: [{ label: "Projects" }] },
      <>
        <h1>Projects</h1>
        {projects.length === 0 ? (
          <p>
            No project {c.get("principal").role === "admin" ? "yet: register one with POST /api/v2/projects." : "is open to this key."}
          </p>
        ) : (
          <table class="stack">
            <caption class="visually-hidden">Projects</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                <th scope="col">PostgreSQL</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {projects.map((p) => (
                <tr>
                  <td data-label="Name">
                    <a href={`/console/projects/${p.id}`}>{p.name}</a>
                  </td>
                  <td data-label="Id">
                    <code>{p.id}</code>
                  </td>
                  <td data-label="PostgreSQL">{p.pg_version}</td>
                  <td data-label="Created">
                    <Time iso={p.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {pagination ? (
          <p>
            <a href={`/console/projects?cursor=${encodeURIComponent(pagination.cursor)}`}>Next projects</a>
          </p>
        ) : null}
      </>,
    );
  });
}
