import { createRoute } from "@hono/zod-openapi";
import { replaceProjectMaskingRules } from "../../../control/project-rules.ts";
import type { Router } from "../../router.ts";
import { MaskingRulesSchema, ProjectParams, errorResponses, json, jsonBody } from "../../schemas.ts";
import { maskingRulesExample } from "../../examples.ts";

const route = createRoute({
  method: "put",
  path: "/projects/{project_id}/masking_rules",
  summary: "Replace the project's masking rules (admin; validated against the parent databases)",
  request: { params: ProjectParams, body: jsonBody(MaskingRulesSchema, { masking_rules: maskingRulesExample }) },
  responses: { 200: json(MaskingRulesSchema, "The new set", { masking_rules: maskingRulesExample }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { masking_rules } = c.req.valid("json");
    return c.json(
      await replaceProjectMaskingRules(c.get("services"), c.get("principal"), c.req.valid("param").project_id, masking_rules),
      200,
    );
  });
