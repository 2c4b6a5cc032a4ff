import { createRoute, z } from "@hono/zod-openapi";
import { checkMaskingRules } from "../../../control/masking-schema.ts";
import type { Router } from "../../router.ts";
import { maskingRulesExample } from "../../examples.ts";
import { BranchParams, MaskingRulesSchema, errorResponses, json, jsonBody } from "../../schemas.ts";

const route = createRoute({
  method: "post",
  path: "/projects/{project_id}/branches/{branch_id}/masking_rules/validate",
  summary: "Dry run: validate masking rules as PATCH would, without storing them (the project-rule floor is not checked)",
  request: { params: BranchParams, body: jsonBody(MaskingRulesSchema, { masking_rules: maskingRulesExample }) },
  responses: { 200: json(z.object({ valid: z.literal(true) }), "Every rule passes validation", { valid: true }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id } = c.req.valid("param");
    const { masking_rules } = c.req.valid("json");
    return c.json(await checkMaskingRules(c.get("services"), c.get("principal"), project_id, branch_id, masking_rules), 200);
  });
