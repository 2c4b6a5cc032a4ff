import { createRoute, z } from "@hono/zod-openapi";
import { connectionUri } from "../../control/credentials.ts";
import { branchIdPattern } from "../../lib/ids.ts";
import type { Router } from "../router.ts";
import { ProjectParams, errorResponses, json } from "../schemas.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/connection_uri",
  summary: "Connection URI of a branch database (anonymized branches: only once anonymized)",
  request: {
    params: ProjectParams,
    query: z.object({
      branch_id: z.string().regex(branchIdPattern, "not a branch id").optional(),
      endpoint_id: z.string().optional(),
      database_name: z.string().min(1).max(63),
      role_name: z.string().min(1).max(63),
      pooled: z.enum(["true", "false"]).optional(),
    }),
  },
  responses: { 200: json(z.object({ uri: z.string() }), "The URI"), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(await connectionUri(c.get("services"), c.get("principal"), c.req.valid("param").project_id, c.req.valid("query")), 200),
  );
