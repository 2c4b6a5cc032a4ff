import { createRoute, z } from "@hono/zod-openapi";
import { listProjects } from "../../../control/projects.ts";
import type { Router } from "../../router.ts";
import { ProjectSchema, errorResponses, json } from "../../schemas.ts";
import { projectExample } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects",
  summary: "List projects",
  request: {
    query: z.object({
      cursor: z.string().optional(),
      limit: z.coerce.number().int().min(1).max(400).default(10),
    }),
  },
  responses: {
    200: json(z.object({ projects: z.array(ProjectSchema), pagination: z.object({ cursor: z.string() }).optional() }), "Projects", {
      projects: [projectExample],
      pagination: { cursor: projectExample.id },
    }),
    ...errorResponses,
  },
});

export default (app: Router) =>
  app.openapi(route, async (c) => c.json(await listProjects(c.get("services"), c.get("principal"), c.req.valid("query")), 200));
