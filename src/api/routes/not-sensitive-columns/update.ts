import { createRoute } from "@hono/zod-openapi";
import { replaceNotSensitiveColumns } from "../../../control/not-sensitive-columns.ts";
import type { Router } from "../../router.ts";
import { ProjectParams, errorResponses, json, jsonBody } from "../../schemas.ts";
import { NotSensitiveColumnsSchema, NotSensitiveInputSchema, notSensitiveColumnsExample, notSensitiveInputExample } from "./schemas.ts";

const route = createRoute({
  method: "put",
  path: "/projects/{project_id}/not_sensitive_columns",
  summary: "Replace the project's not-sensitive decisions (admin; every column must exist in the parent databases; audited)",
  request: { params: ProjectParams, body: jsonBody(NotSensitiveInputSchema, notSensitiveInputExample) },
  responses: { 200: json(NotSensitiveColumnsSchema, "The new set", notSensitiveColumnsExample), ...errorResponses },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(
      await replaceNotSensitiveColumns(
        c.get("services"),
        c.get("principal"),
        c.req.valid("param").project_id,
        c.req.valid("json").not_sensitive_columns,
      ),
      200,
    ),
  );
