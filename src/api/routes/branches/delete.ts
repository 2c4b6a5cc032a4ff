import { createRoute, z } from "@hono/zod-openapi";
import { deleteBranch } from "../../../control/branches.ts";
import type { Router } from "../../router.ts";
import { BranchParams, BranchSchema, OperationSchema, errorResponses, json } from "../../schemas.ts";
import { deleteOperationExample, readyBranchExample } from "../../examples.ts";

const route = createRoute({
  method: "delete",
  path: "/projects/{project_id}/branches/{branch_id}",
  summary: "Delete a branch: answers at once, drops its databases and role asynchronously",
  request: { params: BranchParams },
  responses: { 200: json(z.object({ branch: BranchSchema, operations: z.array(OperationSchema) }), "Deleting", {
    branch: readyBranchExample,
    operations: [deleteOperationExample],
  }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id } = c.req.valid("param");
    return c.json(await deleteBranch(c.get("services"), c.get("principal"), project_id, branch_id), 200);
  });
