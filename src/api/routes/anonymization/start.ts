import { createRoute } from "@hono/zod-openapi";
import { startAnonymization } from "../../../control/anonymization.ts";
import type { Router } from "../../router.ts";
import { AnonymizedStatusSchema, BranchParams, errorResponses, json } from "../../schemas.ts";
import { anonymizingStatusExample } from "../../examples.ts";

const route = createRoute({
  method: "post",
  path: "/projects/{project_id}/branches/{branch_id}/anonymize",
  summary: "Start an anonymization run (from initialized, error or anonymized)",
  request: { params: BranchParams },
  responses: { 200: json(AnonymizedStatusSchema, "Run scheduled", anonymizingStatusExample), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id } = c.req.valid("param");
    return c.json(await startAnonymization(c.get("services"), c.get("principal"), project_id, branch_id), 200);
  });
