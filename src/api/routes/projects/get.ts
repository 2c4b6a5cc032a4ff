import { createRoute, z } from "@hono/zod-openapi";
import { getProject } from "../../../control/projects.ts";
import type { Router } from "../../router.ts";
import { ProjectParams, ProjectSchema, errorResponses, json } from "../../schemas.ts";
import { projectExample } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}",
  summary: "Get a project",
  request: { params: ProjectParams },
  responses: { 200: json(z.object({ project: ProjectSchema }), "The project", { project: projectExample }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(await getProject(c.get("services"), c.get("principal"), c.req.valid("param").project_id), 200),
  );
