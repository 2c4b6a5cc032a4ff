import { z } from "@hono/zod-openapi";
import { MaskingRuleSchema } from "../../schemas.ts";

const column = MaskingRuleSchema.pick({ database_name: true, schema_name: true, table_name: true, column_name: true });

export const NotSensitiveInputSchema = z.object({
  not_sensitive_columns: z.array(column.extend({ reason: z.string().max(1000).nullish() })).max(5000),
});

export const NotSensitiveColumnsSchema = z
  .object({
    not_sensitive_columns: z.array(
      column.extend({ reason: z.string().optional(), decided_by: z.string(), decided_at: z.string() }),
    ),
  })
  .openapi("NotSensitiveColumns");

const column_ = { database_name: "shop", schema_name: "public", table_name: "orders", column_name: "note" };

export const notSensitiveInputExample = { not_sensitive_columns: [{ ...column_, reason: "free text the shop writes itself" }] };

export const notSensitiveColumnsExample = {
  not_sensitive_columns: [{ ...column_, reason: "free text the shop writes itself", decided_by: "admin", decided_at: "2026-05-04T09:30:00.000Z" }],
};
