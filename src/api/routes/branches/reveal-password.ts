import { createRoute, z } from "@hono/zod-openapi";
import { revealPassword } from "../../../control/credentials.ts";
import type { Router } from "../../router.ts";
import { BranchParams, errorResponses, json } from "../../schemas.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password",
  summary: "Reveal a role's password (anonymized branches: at once; their endpoint admits nobody until anonymized)",
  request: { params: BranchParams.extend({ role_name: z.string().min(1).max(63).openapi({ example: "neondb_owner" }) }) },
  responses: { 200: json(z.object({ password: z.string() }), "The password", { password: "npg_4dXk2vQm9Lr7" }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id, role_name } = c.req.valid("param");
    return c.json(await revealPassword(c.get("services"), c.get("principal"), project_id, branch_id, role_name), 200);
  });
