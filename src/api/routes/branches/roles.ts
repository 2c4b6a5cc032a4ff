import { createRoute, z } from "@hono/zod-openapi";
import { listRoles } from "../../../control/credentials.ts";
import type { Router } from "../../router.ts";
import { BranchParams, RoleSchema, errorResponses, json } from "../../schemas.ts";
import { roleExample } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/branches/{branch_id}/roles",
  summary: "List a branch's roles",
  request: { params: BranchParams },
  responses: { 200: json(z.object({ roles: z.array(RoleSchema) }), "Roles", { roles: [roleExample] }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id } = c.req.valid("param");
    return c.json(await listRoles(c.get("services"), c.get("principal"), project_id, branch_id), 200);
  });
