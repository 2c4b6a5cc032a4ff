import { createRoute, z } from "@hono/zod-openapi";
import { checkMaskingRules } from "../../../control/project-rules.ts";
import type { Router } from "../../router.ts";
import { maskingRulesExample } from "../../examples.ts";
import { MaskingRulesSchema, ProjectParams, errorResponses, json, jsonBody } from "../../schemas.ts";

const route = createRoute({
  method: "post",
  path: "/projects/{project_id}/masking_rules/validate",
  summary: "Validate a rule set against the parent databases without storing it (what PUT or PATCH would refuse)",
  request: { params: ProjectParams, body: jsonBody(MaskingRulesSchema, { masking_rules: maskingRulesExample }) },
  responses: {
    200: json(
      z.object({
        valid: z.boolean(),
        problems: z.array(z.object({ index: z.number(), field: z.string(), message: z.string() })),
      }),
      "Every problem, each naming its rule",
      { valid: true, problems: [] },
    ),
    ...errorResponses,
  },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(
      await checkMaskingRules(c.get("services"), c.get("principal"), c.req.valid("param").project_id, c.req.valid("json").masking_rules),
      200,
    ),
  );
