import { createRoute, z } from "@hono/zod-openapi";
import { deleteProject } from "../../../control/projects.ts";
import type { Router } from "../../router.ts";
import { OperationSchema, ProjectParams, ProjectSchema, errorResponses, json } from "../../schemas.ts";
import { deleteOperationExample, ids, projectExample } from "../../examples.ts";

const route = createRoute({
  method: "delete",
  path: "/projects/{project_id}",
  summary: "Delete a project and its branches' copies (parent databases are untouched; admin)",
  request: { params: ProjectParams },
  responses: {
    200: json(z.object({ project: ProjectSchema, operations: z.array(OperationSchema) }), "Deleted", {
      project: projectExample,
      operations: [{ ...deleteOperationExample, branch_id: ids.branch }],
    }),
    ...errorResponses,
  },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(await deleteProject(c.get("services"), c.get("principal"), c.req.valid("param").project_id), 200),
  );
