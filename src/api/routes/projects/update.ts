import { createRoute, z } from "@hono/zod-openapi";
import { updateProject } from "../../../control/projects.ts";
import type { Router } from "../../router.ts";
import { projectExample } from "../../examples.ts";
import { OperationSchema, ProjectParams, ProjectSchema, QuotaSchema, errorResponses, json, jsonBody } from "../../schemas.ts";

const UpdateProjectBody = z.object({
  project: z.object({
    name: z.string().min(1).max(256).optional(),
    settings: z.object({ quota: QuotaSchema.strict().optional() }).optional(),
  }),
});

const route = createRoute({
  method: "patch",
  path: "/projects/{project_id}",
  summary: "Rename a project or set its quotas: settings.quota.logical_size_bytes, settings.quota.max_branches (admin)",
  request: {
    params: ProjectParams,
    body: jsonBody(UpdateProjectBody, { project: { settings: { quota: { logical_size_bytes: 10_737_418_240, max_branches: 20 } } } }),
  },
  responses: {
    200: json(z.object({ project: ProjectSchema, operations: z.array(OperationSchema) }), "Updated", {
      project: { ...projectExample, settings: { quota: { logical_size_bytes: 10_737_418_240, max_branches: 20 } } },
      operations: [],
    }),
    ...errorResponses,
  },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(await updateProject(c.get("services"), c.get("principal"), c.req.valid("param").project_id, c.req.valid("json").project), 200),
  );
