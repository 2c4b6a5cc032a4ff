import { createRoute, z } from "@hono/zod-openapi";
import { updateBranch } from "../../../control/branch-lifecycle.ts";
import type { Router } from "../../router.ts";
import { BranchParams, BranchSchema, OperationSchema, errorResponses, json, jsonBody } from "../../schemas.ts";
import { readyBranchExample } from "../../examples.ts";

const Body = z.object({
  branch: z.object({
    name: z.string().min(1).max(256).optional(),
    expires_at: z.string().datetime({ offset: true, message: "must be an RFC 3339 timestamp" }).nullable().optional(),
    protected: z.boolean().optional(),
  }),
});

const route = createRoute({
  method: "patch",
  path: "/projects/{project_id}/branches/{branch_id}",
  summary: "Rename a branch, change or remove its expiry, protect it",
  request: { params: BranchParams, body: jsonBody(Body, { branch: { name: "pr-42-review", expires_at: null } }) },
  responses: { 200: json(z.object({ branch: BranchSchema, operations: z.array(OperationSchema) }), "Updated", {
    branch: { ...readyBranchExample, name: "pr-42-review", expires_at: undefined },
    operations: [],
  }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id } = c.req.valid("param");
    return c.json(await updateBranch(c.get("services"), c.get("principal"), project_id, branch_id, c.req.valid("json").branch), 200);
  });
