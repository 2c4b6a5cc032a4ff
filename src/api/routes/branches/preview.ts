import { createRoute, z } from "@hono/zod-openapi";
import { previewMaskedRows } from "../../../control/preview.ts";
import type { Router } from "../../router.ts";
import { BranchParams, errorResponses, json } from "../../schemas.ts";

const Query = z.object({
  table: z.string().min(1).max(130).openapi({ example: "public.users", description: "schema.table (schema public when omitted)" }),
  database: z.string().min(1).max(63).optional().openapi({ description: "logical database name (default: the branch's first)" }),
  limit: z.coerce.number().int().min(1, "must be at least 1").max(100, "must be at most 100").default(20),
});

const Preview = z
  .object({
    database_name: z.string(),
    schema_name: z.string(),
    table_name: z.string(),
    columns: z.array(
      z.object({
        name: z.string(),
        type: z.string(),
        masked: z.boolean(),
        masking_function: z.string().optional(),
        masking_value: z.string().optional(),
      }),
    ),
    rows: z.array(z.record(z.string(), z.unknown())),
  })
  .openapi("MaskedRowsPreview");

const route = createRoute({
  method: "get",
  path: "/projects/{project_id}/branches/{branch_id}/preview",
  summary: "Rows of a table as the branch's current rules mask them, computed read-only on the branch (initialized or later)",
  request: { params: BranchParams, query: Query },
  responses: {
    200: json(Preview, "Masked rows", {
      database_name: "shop",
      schema_name: "public",
      table_name: "users",
      columns: [
        { name: "id", type: "integer", masked: false },
        { name: "email", type: "text", masked: true, masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')" },
        { name: "address", type: "text", masked: true, masking_value: "'CONFIDENTIAL'" },
      ],
      rows: [{ id: 1, email: "5b7c2a1e-8d7f-4c3e-9f1b-2a6d9e0c4b11@example.com", address: "CONFIDENTIAL" }],
    }),
    ...errorResponses,
  },
});

export default (app: Router) =>
  app.openapi(route, async (c) => {
    const { project_id, branch_id } = c.req.valid("param");
    return c.json(await previewMaskedRows(c.get("services"), c.get("principal"), project_id, branch_id, c.req.valid("query")), 200);
  });
