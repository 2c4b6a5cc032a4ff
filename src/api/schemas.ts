// Zod schemas shared by routes: Neon API v2 shapes (the subset we serve).
import { z } from "@hono/zod-openapi";
import { branchIdPattern, projectIdPattern } from "../lib/ids.ts";
import { errorExamples, ids, maskingRulesExample } from "./examples.ts";

export const ErrorSchema = z
  .object({ code: z.string(), message: z.string(), request_id: z.string().optional() })
  .openapi("GeneralError", { example: { ...errorExamples[404], request_id: ids.requestId } });

const errorResponse = (status: keyof typeof errorExamples, description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema, example: { ...errorExamples[status], request_id: ids.requestId } } },
});

/** Every route's error answers: the one envelope (GeneralError), with an example each. */
export const errorResponses = {
  400: errorResponse(400, "Malformed request"),
  401: errorResponse(401, "Missing or invalid token"),
  403: errorResponse(403, "Not allowed for this key"),
  404: errorResponse(404, "Not found"),
  409: errorResponse(409, "Conflicts with the current state"),
  422: errorResponse(422, "Refused input"),
  423: errorResponse(423, "Another operation holds the branch"),
  429: errorResponse(429, "Rate limited; see Retry-After"),
  503: errorResponse(503, "A database server is unreachable; see Retry-After"),
} as const;

/** A JSON response; `example` is shown in the OpenAPI document and checked against `schema` by test/openapi.test.ts. */
export const json = <T extends z.ZodType>(schema: T, description: string, example?: z.input<T>) => ({
  description,
  content: { "application/json": example === undefined ? { schema } : { schema, example } },
});

/** A required JSON request body with its example. */
export const jsonBody = <T extends z.ZodType>(schema: T, example: z.input<T>) => ({
  content: { "application/json": { schema, example } },
  required: true,
});

export const ProjectParams = z.object({
  project_id: z
    .string()
    .regex(projectIdPattern, "not a project id")
    .openapi({ param: { name: "project_id", in: "path" }, example: ids.project }),
});
export const BranchParams = ProjectParams.extend({
  branch_id: z
    .string()
    .regex(branchIdPattern, "not a branch id")
    .openapi({ param: { name: "branch_id", in: "path" }, example: ids.branch }),
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

export const MaskingRulesSchema = z
  .object({ masking_rules: z.array(MaskingRuleSchema).max(2000) })
  .openapi({ example: { masking_rules: maskingRulesExample } });

const str = z.string();
const optStr = z.string().optional();
const num = z.number();

const quotaBytes = z.number().int().min(0).nullable();
export const QuotaSchema = z
  .object({
    logical_size_bytes: quotaBytes.optional().openapi({ description: "total size of the project's branch copies (parents not counted); null: no limit" }),
    max_branches: z.number().int().min(0).nullable().optional().openapi({ description: "anonbranch: branches besides the default one; null: no limit" }),
  })
  .openapi("ProjectQuota");

export const ProjectSchema = z
  .object({
    id: str, platform_id: str, region_id: str, name: str, provisioner: str, pg_version: num, proxy_host: str,
    branch_logical_size_limit: num, branch_logical_size_limit_bytes: num, store_passwords: z.boolean(),
    creation_source: str, history_retention_seconds: num, active_time: num, cpu_used_sec: num,
    data_storage_bytes_hour: num, data_transfer_bytes: num, written_data_bytes: num, compute_time_seconds: num,
    active_time_seconds: num, owner_id: str, created_at: str, updated_at: str,
    consumption_period_start: str, consumption_period_end: str,
    settings: z.object({ quota: QuotaSchema }),
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
        /** Beyond Neon: how each table was masked (one-pass rewrite, or anon.anonymize_table and why). */
        tables: z
          .array(
            z.object({
              database: z.string(),
              schema: z.string(),
              table: z.string(),
              path: z.enum(["rewrite", "anon"]),
              reason: z.string().nullable(),
              columns: z.number(),
              ms: z.number(),
            }),
          )
          .optional(),
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
    repository_id: z.string().nullable(),
    repository_owner_id: z.string().nullable(),
    environment: z.string().nullable(),
    job_workflow_ref: z.string().nullable(),
    role: z.enum(["developer", "ci"]),
    /** True when the policy pins neither repository_id nor repository_owner_id. */
    trusts_name_only: z.boolean(),
    warning: z.string().optional(),
    created_at: z.string(),
  })
  .openapi("TrustPolicy");

export const ServerSchema = z
  .object({
    id: z.string().openapi({ description: "host:port" }),
    host: z.string(),
    port: z.number(),
    project_ids: z.array(z.string()),
    storage_budget_bytes: z.number().nullable().openapi({ description: "null: no budget" }),
    used_bytes: z.number().openapi({ description: "size of the live branch copies on this server, as accounted when each was made" }),
  })
  .openapi("DataPlaneServer");
