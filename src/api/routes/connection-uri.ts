import { createRoute, z } from "@hono/zod-openapi";
import { connectionUri } from "../../control/credentials.ts";
import { branchIdPattern } from "../../lib/ids.ts";
import type { Router } from "../router.ts";
import { ProjectParams, errorResponses, json } from "../schemas.ts";
import { ids } from "../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/connection_uri",
  summary: "Connection URI of a branch database (anonymized branches: their endpoint, logical names, at once)",
  request: {
    params: ProjectParams,
    query: z.object({
      branch_id: z.string().regex(branchIdPattern, "not a branch id").optional().openapi({ example: ids.branch }),
      endpoint_id: z.string().optional(),
      database_name: z.string().min(1).max(63).openapi({ example: ids.database }),
      role_name: z.string().min(1).max(63).openapi({ example: "neondb_owner" }),
      pooled: z.enum(["true", "false"]).optional(),
    }),
  },
  responses: { 200: json(z.object({ uri: z.string() }), "The URI", {
    uri: "postgresql://neondb_owner:npg_4dXk2vQm9Lr7@ep-flat-poetry-769842.db.example.com/shop?sslmode=require",
  }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(await connectionUri(c.get("services"), c.get("principal"), c.req.valid("param").project_id, c.req.valid("query")), 200),
  );
