import { createRoute, z } from "@hono/zod-openapi";
import { sensitiveColumns } from "../../control/sensitive-columns.ts";
import { branchIdPattern } from "../../lib/ids.ts";
import type { Router } from "../router.ts";
import { MaskingRuleSchema, ProjectParams, errorResponses, json } from "../schemas.ts";

const SensitiveColumnSchema = z
  .object({
    database_name: z.string(),
    schema_name: z.string(),
    table_name: z.string(),
    column_name: z.string(),
    data_type: z.string(),
    category: z.string(),
    suggested_rule: MaskingRuleSchema.optional(),
    note: z.string().optional(),
    masked: z.boolean(),
  })
  .openapi("SensitiveColumn");

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/sensitive_columns",
  summary: "Columns of the parent databases that look like personal data (by name and type, no row read), with a suggested rule and whether the project's (or branch_id's) rules mask them",
  request: {
    params: ProjectParams,
    query: z.object({ branch_id: z.string().regex(branchIdPattern, "not a branch id").optional() }),
  },
  responses: {
    200: json(
      z.object({
        rules_of: z.object({ project_id: z.string().optional(), branch_id: z.string().optional() }),
        columns: z.array(SensitiveColumnSchema),
        coverage: z.object({ sensitive: z.number(), masked: z.number() }),
      }),
      "Sensitive columns and coverage",
    ),
    ...errorResponses,
  },
});

export default (app: Router) =>
  app.openapi(route, async (c) =>
    c.json(
      await sensitiveColumns(c.get("services"), c.get("principal"), c.req.valid("param").project_id, c.req.valid("query").branch_id),
      200,
    ),
  );
