import { createRoute } from "@hono/zod-openapi";
import { getProjectMaskingRules } from "../../../control/project-rules.ts";
import type { Router } from "../../router.ts";
import { MaskingRulesSchema, ProjectParams, errorResponses, json } from "../../schemas.ts";
import { maskingRulesExample } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/masking_rules",
  summary: "The project's masking rules: the default for new branches, a floor for developer and ci keys",
  request: { params: ProjectParams },
  responses: { 200: json(MaskingRulesSchema, "Masking rules", { masking_rules: maskingRulesExample }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(await getProjectMaskingRules(c.get("services"), c.get("principal"), c.req.valid("param").project_id), 200),
  );
