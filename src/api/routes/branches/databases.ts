import { createRoute, z } from "@hono/zod-openapi";
import { listDatabases } from "../../../control/credentials.ts";
import type { Router } from "../../router.ts";
import { BranchParams, DatabaseSchema, errorResponses, json } from "../../schemas.ts";
import { databaseExample } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/branches/{branch_id}/databases",
  summary: "List a branch's databases (logical names)",
  request: { params: BranchParams },
  responses: { 200: json(z.object({ databases: z.array(DatabaseSchema) }), "Databases", { databases: [databaseExample] }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id } = c.req.valid("param");
    return c.json(await listDatabases(c.get("services"), c.get("principal"), project_id, branch_id), 200);
  });
