import { createRoute, z } from "@hono/zod-openapi";
import { getDatabase } from "../../../control/credentials.ts";
import type { Router } from "../../router.ts";
import { BranchParams, DatabaseSchema, errorResponses, json } from "../../schemas.ts";
import { databaseExample, ids } from "../../examples.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/branches/{branch_id}/databases/{database_name}",
  summary: "Get a branch database",
  request: { params: BranchParams.extend({ database_name: z.string().min(1).max(63).openapi({ example: ids.database }) }) },
  responses: { 200: json(z.object({ database: DatabaseSchema }), "The database", { database: databaseExample }), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id, database_name } = c.req.valid("param");
    return c.json(await getDatabase(c.get("services"), c.get("principal"), project_id, branch_id, database_name), 200);
  });
