import { createRoute, z } from "@hono/zod-openapi";
import { resetToParent } from "../../../control/branch-lifecycle.ts";
import type { Router } from "../../router.ts";
import { BranchParams, BranchSchema, OperationSchema, errorResponses, json } from "../../schemas.ts";
import { operationExample, readyBranchExample } from "../../examples.ts";

const route = createRoute({
  method: "post",
  path: "/projects/{project_id}/branches/{branch_id}/reset_to_parent",
  summary: "Re-clone an anonymized branch from its parent and mask it again (keeps id, name, role, password)",
  request: { params: BranchParams },
  responses: { 200: json(z.object({ branch: BranchSchema, operations: z.array(OperationSchema) }), "Resetting", {
    branch: readyBranchExample,
    operations: [{ ...operationExample, action: "reset_to_parent", endpoint_id: undefined }],
  }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id } = c.req.valid("param");
    return c.json(await resetToParent(c.get("services"), c.get("principal"), project_id, branch_id), 200);
  });
