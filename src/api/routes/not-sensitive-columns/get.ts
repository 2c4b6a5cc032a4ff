import { createRoute } from "@hono/zod-openapi";
import { getNotSensitiveColumns } from "../../../control/not-sensitive-columns.ts";
import type { Router } from "../../router.ts";
import { ProjectParams, errorResponses, json } from "../../schemas.ts";
import { NotSensitiveColumnsSchema, notSensitiveColumnsExample } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/not_sensitive_columns",
  summary: "Columns an admin decided hold no personal data: the coverage gate does not flag them",
  request: { params: ProjectParams },
  responses: { 200: json(NotSensitiveColumnsSchema, "The project's decisions", notSensitiveColumnsExample), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(await getNotSensitiveColumns(c.get("services"), c.get("principal"), c.req.valid("param").project_id), 200),
  );
