import { createRoute, z } from "@hono/zod-openapi";
import { getBranch } from "../../../control/branches.ts";
import { cachedJson } from "../../cached-json.ts";
import type { Router } from "../../router.ts";
import { AnnotationSchema, BranchParams, BranchSchema, errorResponses, json } from "../../schemas.ts";
import { annotationExample, readyBranchExample } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/branches/{branch_id}",
  summary: "Get a branch",
  request: { params: BranchParams },
  responses: { 200: json(z.object({ branch: BranchSchema, annotation: AnnotationSchema.optional() }), "The branch", {
    branch: readyBranchExample,
    annotation: annotationExample,
  }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id } = c.req.valid("param");
    return cachedJson(c, await getBranch(c.get("services"), c.get("principal"), project_id, branch_id));
  });
