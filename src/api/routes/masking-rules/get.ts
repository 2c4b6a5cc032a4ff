import { createRoute } from "@hono/zod-openapi";
import { getMaskingRules } from "../../../control/masking-rules.ts";
import { cachedJson } from "../../cached-json.ts";
import type { Router } from "../../router.ts";
import { BranchParams, MaskingRulesSchema, errorResponses, json } from "../../schemas.ts";
import { maskingRulesExample } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/branches/{branch_id}/masking_rules",
  summary: "Every masking rule of the branch, including labels set over SQL",
  request: { params: BranchParams },
  responses: { 200: json(MaskingRulesSchema, "Masking rules", { masking_rules: maskingRulesExample }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id } = c.req.valid("param");
    return cachedJson(c, await getMaskingRules(c.get("services"), c.get("principal"), project_id, branch_id));
  });
