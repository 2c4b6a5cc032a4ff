import { createRoute, z } from "@hono/zod-openapi";
import { sensitiveColumns } from "../../control/sensitive-columns.ts";
import { branchIdPattern } from "../../lib/ids.ts";
import type { Router } from "../router.ts";
import { MaskingRuleSchema, ProjectParams, errorResponses, json } from "../schemas.ts";
import { ids, maskingRulesExample } from "../examples.ts";

const EvidenceSchema = z
  .object({
    detector: z.string().openapi({ description: "email, phone, iban, card_number, ip_address, national_id, person_name; for json_key the kind the key names" }),
    found_in: z.enum(["value", "json_key", "json_value", "free_text"]),
    share: z.number().openapi({ description: "matching rows / sampled non-null rows" }),
    sampled: z.number().openapi({ description: "non-null values sampled" }),
  })
  .openapi("SensitiveColumnEvidence");

const SensitiveColumnSchema = z
  .object({
    database_name: z.string(),
    schema_name: z.string(),
    table_name: z.string(),
    column_name: z.string(),
    data_type: z.string(),
    category: z.string(),
    detected_by: z.array(z.enum(["name", "values"])),
    evidence: z.array(EvidenceSchema).optional(),
    suggested_rule: MaskingRuleSchema.optional(),
    note: z.string().optional(),
    masked: z.boolean(),
    not_sensitive: z
      .object({ reason: z.string().optional(), decided_by: z.string(), decided_at: z.string() })
      .optional()
      .openapi({ description: "an admin decided the column holds no personal data (PUT …/not_sensitive_columns)" }),
  })
  .openapi("SensitiveColumn");

const users = { database_name: "shop", schema_name: "public", table_name: "users" };

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/sensitive_columns",
  summary:
    "Columns of the parent databases that look like personal data, by name and type (every role) and, with sample=true, by a sample of at most 1,000 rows per table (admin; evidence only, never values); with a suggested rule, whether the project's (or branch_id's) rules mask them, and not-sensitive decisions",
  request: {
    params: ProjectParams,
    query: z.object({
      branch_id: z.string().regex(branchIdPattern, "not a branch id").optional(),
      sample: z.enum(["true", "false"]).optional(),
    }),
  },
  responses: {
    200: json(
      z.object({
        rules_of: z.object({ project_id: z.string().optional(), branch_id: z.string().optional() }),
        columns: z.array(SensitiveColumnSchema),
        coverage: z.object({ sensitive: z.number(), masked: z.number(), not_sensitive: z.number(), uncovered: z.number() }),
        sampling: z
          .object({
            max_rows_per_table: z.number(),
            tables: z.array(
              z.object({ database_name: z.string(), schema_name: z.string(), table_name: z.string(), rows_read: z.number(), method: z.string() }),
            ),
            skipped: z.array(z.object({ database_name: z.string(), schema_name: z.string(), table_name: z.string(), reason: z.string() })),
          })
          .optional(),
      }),
      "Sensitive columns and coverage",
      {
        rules_of: { project_id: ids.project },
        columns: [
          { ...users, column_name: "email", data_type: "text", category: "email", detected_by: ["name"], suggested_rule: maskingRulesExample[0], masked: true },
          {
            ...users,
            column_name: "phone",
            data_type: "text",
            category: "phone",
            detected_by: ["name"],
            suggested_rule: { ...users, column_name: "phone", masking_function: "anon.partial(\"phone\", 2, 'XXXXXX', 2)" },
            masked: false,
          },
        ],
        coverage: { sensitive: 2, masked: 1, not_sensitive: 0, uncovered: 1 },
      },
    ),
    ...errorResponses,
  },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const query = c.req.valid("query");
    return c.json(
      await sensitiveColumns(c.get("services"), c.get("principal"), c.req.valid("param").project_id, {
        branchId: query.branch_id,
        sample: query.sample === "true",
      }),
      200,
    );
  });
