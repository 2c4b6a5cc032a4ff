import { createRoute } from "@hono/zod-openapi";
import { replaceMaskingRules } from "../../../control/masking-rules.ts";
import type { Router } from "../../router.ts";
import { BranchParams, MaskingRulesSchema, errorResponses, json, jsonBody } from "../../schemas.ts";
import { maskingRulesExample } from "../../examples.ts";

const route = createRoute({
  method: "patch",
  path: "/projects/{project_id}/branches/{branch_id}/masking_rules",
  summary: "Replace the whole set of masking rules (validated first)",
  request: { params: BranchParams, body: jsonBody(MaskingRulesSchema, { masking_rules: maskingRulesExample }) },
  responses: { 200: json(MaskingRulesSchema, "The new set", { masking_rules: maskingRulesExample }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id } = c.req.valid("param");
    const { masking_rules } = c.req.valid("json");
    return c.json(await replaceMaskingRules(c.get("services"), c.get("principal"), project_id, branch_id, masking_rules), 200);
  });
