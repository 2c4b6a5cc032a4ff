// Zod schemas shared by routes: Neon API v2 shapes (the subset we serve).
import { z } from "@hono/zod-openapi";
import { branchIdPattern, projectIdPattern } from "../lib/ids.ts";

export const ErrorSchema = z
  .object({ code: z.string(), message: z.string(), request_id: z.string().optional() })
  .openapi("GeneralError");

export const errorResponses = {
  400: { description: "Malformed request", content: { "application/json": { schema: ErrorSchema } } },
  401: { description: "Missing or invalid token", content: { "application/json": { schema: ErrorSchema } } },
  403: { description: "Not allowed for this key", content: { "application/json": { schema: ErrorSchema } } },
  404: { description: "Not found", content: { "application/json": { schema: ErrorSchema } } },
  409: { description: "Conflicts with the current state", content: { "application/json": { schema: ErrorSchema } } },
  422: { description: "Refused input", content: { "application/json": { schema: ErrorSchema } } },
  423: { description: "Another operation holds the branch", content: { "application/json": { schema: ErrorSchema } } },
} as const;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const ProjectParams = z.object({
  project_id: z.string().regex(projectIdPattern, "not a project id").openapi({ param: { name: "project_id", in: "path" } }),
});
export const BranchParams = ProjectParams.extend({
  branch_id: z.string().regex(branchIdPattern, "not a branch id").openapi({ param: { name: "branch_id", in: "path" } }),
});

const identifier = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .refine((s) => Buffer.byteLength(s) <= 63, `${what} is longer than 63 bytes`)
    .refine((s) => !s.includes("\0"), `${what} contains a NUL byte`);

export const MaskingRuleSchema = z
  .object({
    database_name: identifier("database_name"),
    schema_name: identifier("schema_name"),
    table_name: identifier("table_name"),
    column_name: identifier("column_name"),
    masking_function: z.string().max(2000).nullish(),
    masking_value: z.string().max(2000).nullish(),
  })
  .openapi("MaskingRule", {
    example: {
      database_name: "shop",
      schema_name: "public",
      table_name: "users",
      column_name: "email",
      masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')",
    },
  });

export const MaskingRulesSchema = z.object({ masking_rules: z.array(MaskingRuleSchema).max(2000) });

const str = z.string();
const optStr = z.string().optional();
const num = z.number();

export const ProjectSchema = z
  .object({
    id: str, platform_id: str, region_id: str, name: str, provisioner: str, pg_version: num, proxy_host: str,
    branch_logical_size_limit: num, branch_logical_size_limit_bytes: num, store_passwords: z.boolean(),
    creation_source: str, history_retention_seconds: num, active_time: num, cpu_used_sec: num,
    data_storage_bytes_hour: num, data_transfer_bytes: num, written_data_bytes: num, compute_time_seconds: num,
    active_time_seconds: num, owner_id: str, created_at: str, updated_at: str,
    consumption_period_start: str, consumption_period_end: str,
  })
  .openapi("Project");

export const BranchSchema = z
  .object({
    id: str, project_id: str, parent_id: optStr, name: str, current_state: str, state_changed_at: str,
    creation_source: str, primary: z.boolean(), default: z.boolean(), protected: z.boolean(), cpu_used_sec: num,
    compute_time_seconds: num, active_time_seconds: num, written_data_bytes: num, data_transfer_bytes: num,
    created_at: str, updated_at: str, expires_at: optStr, last_reset_at: optStr, init_source: str,
    restricted_actions: z.array(z.object({ name: str, reason: str })).optional(),
    anonymized: z.boolean().openapi({ description: "anonbranch: true for anonymized branches" }),
  })
  .openapi("Branch");

export const EndpointSchema = z
  .object({
    host: str, id: str, project_id: str, branch_id: str, autoscaling_limit_min_cu: num, autoscaling_limit_max_cu: num,
    region_id: str, type: str, current_state: str, settings: z.object({}), pooler_enabled: z.boolean(),
    pooler_mode: str, disabled: z.boolean(), passwordless_access: z.boolean(), creation_source: str,
    created_at: str, updated_at: str, proxy_host: str, suspend_timeout_seconds: num, provisioner: str,
  })
  .openapi("Endpoint");

export const DatabaseSchema = z
  .object({ id: num, branch_id: str, name: str, owner_name: str, created_at: str, updated_at: str })
  .openapi("Database");

export const RoleSchema = z
  .object({
    branch_id: str, name: str, protected: z.boolean(), authentication_method: str, created_at: str, updated_at: str,
  })
  .openapi("Role");

export const OperationSchema = z
  .object({
    id: str, project_id: str, branch_id: optStr, endpoint_id: optStr, action: str, status: str, error: optStr,
    failures_count: num, retry_at: optStr, created_at: str, updated_at: str, total_duration_ms: num,
  })
  .openapi("Operation");

export const AnnotationSchema = z
  .object({
    object: z.object({ type: str, id: str }),
    value: z.record(z.string(), z.string()),
    created_at: optStr,
    updated_at: optStr,
  })
  .openapi("Annotation");

export const AnonymizedStatusSchema = z
  .object({
    project_id: z.string(),
    branch_id: z.string(),
    state: z.enum(["created", "initialized", "initialization_error", "anonymizing", "anonymized", "error"]),
    status_message: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    failed_at: z.string().optional(),
    last_run: z
      .object({
        started_at: z.string().optional(),
        completed_at: z.string().optional(),
        triggered_by: z.string(),
        triggered_by_username: z.string(),
        masked_columns: z.number(),
      })
      .optional(),
  })
  .openapi("AnonymizedBranchStatusResponse");

export const BranchWithResourcesSchema = z.object({
  branch: BranchSchema,
  endpoints: z.array(EndpointSchema),
  operations: z.array(OperationSchema),
  roles: z.array(RoleSchema),
  databases: z.array(DatabaseSchema),
});

export const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(["admin", "developer", "ci"]),
    project_ids: z.array(z.string()).nullable().openapi({ description: "null: every project (admin keys)" }),
    created_at: z.string(),
    created_by: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable().openapi({ description: "updated at most once a minute" }),
    revoked: z.boolean(),
    revoked_at: z.string().nullable(),
  })
  .openapi("ApiKey");

export const TrustPolicySchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    issuer: z.string(),
    audience: z.string(),
    repository: z.string(),
    ref: z.string().nullable(),
    role: z.enum(["developer", "ci"]),
    created_at: z.string(),
  })
  .openapi("TrustPolicy");
