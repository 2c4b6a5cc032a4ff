import { createRoute, z } from "@hono/zod-openapi";
import { listBranches } from "../../../control/branches.ts";
import { cachedJson } from "../../cached-json.ts";
import type { Router } from "../../router.ts";
import { AnnotationSchema, BranchSchema, ProjectParams, errorResponses, json } from "../../schemas.ts";
import { annotationExample, ids, mainBranchExample, readyBranchExample } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/branches",
  summary: "List branches (annotations always present: neonctl needs it)",
  request: {
    params: ProjectParams,
    query: z.object({
      search: z.string().max(256).optional(),
      sort_by: z.enum(["name", "created_at", "updated_at"]).default("updated_at"),
      sort_order: z.enum(["asc", "desc"]).default("desc"),
      cursor: z.string().max(1024).optional(),
      limit: z.coerce.number().int().min(1).max(10000).optional(),
    }),
  },
  responses: {
    200: json(
      z.object({
        branches: z.array(BranchSchema),
        annotations: z.record(z.string(), AnnotationSchema),
        pagination: z.object({ next: z.string().optional(), sort_by: z.string(), sort_order: z.string() }).optional(),
      }),
      "Branches",
      {
        branches: [readyBranchExample, mainBranchExample],
        annotations: { [ids.branch]: annotationExample },
        pagination: { sort_by: "updated_at", sort_order: "desc" },
      },
    ),
    ...errorResponses,
  },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    cachedJson(c, await listBranches(c.get("services"), c.get("principal"), c.req.valid("param").project_id, c.req.valid("query"))),
  );
