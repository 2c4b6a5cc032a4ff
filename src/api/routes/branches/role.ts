import { createRoute, z } from "@hono/zod-openapi";
import { getRole } from "../../../control/credentials.ts";
import type { Router } from "../../router.ts";
import { BranchParams, RoleSchema, errorResponses, json } from "../../schemas.ts";
import { roleExample } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/branches/{branch_id}/roles/{role_name}",
  summary: "Get a branch role",
  request: { params: BranchParams.extend({ role_name: z.string().min(1).max(63).openapi({ example: "neondb_owner" }) }) },
  responses: { 200: json(z.object({ role: RoleSchema }), "The role", { role: roleExample }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id, role_name } = c.req.valid("param");
    return c.json(await getRole(c.get("services"), c.get("principal"), project_id, branch_id, role_name), 200);
  });
