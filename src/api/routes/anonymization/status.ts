import { createRoute } from "@hono/zod-openapi";
import { getAnonymizedStatus } from "../../../control/anonymization.ts";
import { cachedJson } from "../../cached-json.ts";
import type { Router } from "../../router.ts";
import { AnonymizedStatusSchema, BranchParams, errorResponses, json } from "../../schemas.ts";
import { anonymizedStatusExample } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/branches/{branch_id}/anonymized_status",
  summary: "State and progress of an anonymized branch",
  request: { params: BranchParams },
  responses: { 200: json(AnonymizedStatusSchema, "Status", anonymizedStatusExample), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id } = c.req.valid("param");
    return cachedJson(c, await getAnonymizedStatus(c.get("services"), c.get("principal"), project_id, branch_id));
  });
