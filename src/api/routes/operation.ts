import { createRoute, z } from "@hono/zod-openapi";
import { getOperation } from "../../control/credentials.ts";
import type { Router } from "../router.ts";
import { OperationSchema, ProjectParams, errorResponses, json } from "../schemas.ts";
import { finishedOperationExample, ids } from "../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/operations/{operation_id}",
  summary: "Get an operation",
  request: { params: ProjectParams.extend({ operation_id: z.string().uuid("not an operation id").openapi({ example: ids.operation }) }) },
  responses: { 200: json(z.object({ operation: OperationSchema }), "The operation", { operation: finishedOperationExample }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, operation_id } = c.req.valid("param");
    return c.json(await getOperation(c.get("services"), c.get("principal"), project_id, operation_id), 200);
  });
