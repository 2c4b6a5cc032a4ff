// Examples for the OpenAPI document, taken from a real run (ids made
// readable). test/openapi.test.ts checks every example of every route against
// the route's own zod schema, so they cannot drift from what the API answers.
const T0 = "2026-05-04T09:30:00.000Z";
const T1 = "2026-05-04T09:30:41.000Z";

export const ids = {
  project: "shiny-field-123456",
  mainBranch: "br-quiet-river-100001",
  branch: "br-young-grass-233882",
  mainEndpoint: "ep-calm-lake-100002",
  endpoint: "ep-flat-poetry-769842",
  operation: "029a1ead-e247-424c-97da-a2207df347c9",
  apiKey: "51f6758d-702f-433a-bece-a89a3c02c8fc",
  trustPolicy: "7ee3c0ef-7cfe-47f6-b14f-64763ab601f1",
  branchRole: "br_young_grass_233882_owner",
  database: "shop",
  requestId: "6f1c2e0a-9b7d-4c1e-8a51-2d0f3b9e4a77",
} as const;

export const maskingRulesExample = [
  {
    database_name: "shop",
    schema_name: "public",
    table_name: "users",
    column_name: "email",
    masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')",
  },
  {
    database_name: "shop",
    schema_name: "public",
    table_name: "users",
    column_name: "phone",
    masking_function: "anon.partial(phone, 2, 'XXX-XXXX', 2)",
  },
  { database_name: "shop", schema_name: "public", table_name: "users", column_name: "address", masking_value: "'CONFIDENTIAL'" },
];

export const projectExample = {
  id: ids.project,
  platform_id: "self-hosted",
  region_id: "self-hosted",
  name: "shop",
  provisioner: "k8s-pod",
  pg_version: 16,
  proxy_host: "db.internal",
  branch_logical_size_limit: 0,
  branch_logical_size_limit_bytes: 0,
  store_passwords: true,
  creation_source: "anonbranch",
  history_retention_seconds: 0,
  active_time: 0,
  cpu_used_sec: 0,
  data_storage_bytes_hour: 0,
  data_transfer_bytes: 0,
  written_data_bytes: 0,
  compute_time_seconds: 0,
  active_time_seconds: 0,
  owner_id: "anonbranch",
  created_at: T0,
  updated_at: T0,
  consumption_period_start: T0,
  consumption_period_end: T0,
  settings: { quota: { logical_size_bytes: null, max_branches: null } },
};

const branchCommon = {
  project_id: ids.project,
  creation_source: "anonbranch",
  cpu_used_sec: 0,
  compute_time_seconds: 0,
  active_time_seconds: 0,
  written_data_bytes: 0,
  data_transfer_bytes: 0,
  init_source: "parent-data",
};

export const mainBranchExample = {
  ...branchCommon,
  id: ids.mainBranch,
  name: "main",
  current_state: "ready",
  state_changed_at: T0,
  primary: true,
  default: true,
  protected: true,
  created_at: T0,
  updated_at: T0,
  anonymized: false,
};

/** An anonymized branch as created (`init`); it becomes `ready` once anonymized. */
export const branchExample = {
  ...branchCommon,
  id: ids.branch,
  parent_id: ids.mainBranch,
  name: "pr-42",
  current_state: "init",
  state_changed_at: T0,
  primary: false,
  default: false,
  protected: false,
  created_at: T0,
  updated_at: T0,
  expires_at: "2026-05-05T09:30:00.000Z",
  restricted_actions: [{ name: "restore", reason: "anonymized branches hold masked data and cannot be restored" }],
  anonymized: true,
};

export const readyBranchExample = { ...branchExample, current_state: "ready", state_changed_at: T1, updated_at: T1 };

export const endpointExample = {
  host: "ep-flat-poetry-769842.db.example.com",
  id: ids.endpoint,
  project_id: ids.project,
  branch_id: ids.branch,
  autoscaling_limit_min_cu: 0.25,
  autoscaling_limit_max_cu: 0.25,
  region_id: "self-hosted",
  type: "read_write",
  current_state: "active",
  settings: {},
  pooler_enabled: false,
  pooler_mode: "transaction",
  disabled: false,
  passwordless_access: false,
  creation_source: "anonbranch",
  created_at: T0,
  updated_at: T1,
  proxy_host: "db.example.com",
  suspend_timeout_seconds: 0,
  provisioner: "k8s-pod",
};

export const databaseExample = {
  id: 2,
  branch_id: ids.branch,
  name: ids.database,
  owner_name: "neondb_owner",
  created_at: T0,
  updated_at: T0,
};

export const roleExample = {
  branch_id: ids.branch,
  name: "neondb_owner",
  protected: false,
  authentication_method: "password",
  created_at: T0,
  updated_at: T0,
};

export const operationExample = {
  id: ids.operation,
  project_id: ids.project,
  branch_id: ids.branch,
  endpoint_id: ids.endpoint,
  action: "create_branch",
  status: "scheduling",
  failures_count: 0,
  created_at: T0,
  updated_at: T0,
  total_duration_ms: 0,
};

export const finishedOperationExample = { ...operationExample, status: "finished", updated_at: T1, total_duration_ms: 41000 };

export const annotationExample = {
  object: { type: "console/branch", id: ids.branch },
  value: { pr: "42" },
  created_at: T0,
  updated_at: T1,
};

export const anonymizedStatusExample = {
  project_id: ids.project,
  branch_id: ids.branch,
  state: "anonymized" as const,
  status_message: "Anonymized 3 columns",
  created_at: T0,
  updated_at: T1,
  last_run: {
    started_at: "2026-05-04T09:30:12.000Z",
    completed_at: T1,
    triggered_by: "admin",
    triggered_by_username: "admin",
    masked_columns: 3,
  },
};

export const anonymizingStatusExample = {
  project_id: ids.project,
  branch_id: ids.branch,
  state: "anonymizing" as const,
  status_message: "Anonymizing table shop.public.users (1/2)",
  created_at: T0,
  updated_at: T1,
  last_run: { started_at: T1, triggered_by: "admin", triggered_by_username: "admin", masked_columns: 0 },
};

export const apiKeyExample = {
  id: ids.apiKey,
  name: "alice-laptop",
  role: "developer" as const,
  project_ids: [ids.project],
  created_at: T0,
  created_by: "admin",
  expires_at: "2026-06-03T09:30:00.000Z",
  last_used_at: null,
  revoked: false,
  revoked_at: null,
};

export const trustPolicyExample = {
  id: ids.trustPolicy,
  project_id: ids.project,
  issuer: "https://token.actions.githubusercontent.com",
  audience: "https://anonbranch.example.com",
  repository: "acme/shop",
  ref: null,
  repository_id: "1296269",
  repository_owner_id: "1342004",
  environment: null,
  job_workflow_ref: null,
  role: "ci" as const,
  trusts_name_only: false,
  created_at: T0,
};

/** The shared body of create-branch answers (`branch_anonymized`). */
export const branchWithResourcesExample = {
  branch: branchExample,
  endpoints: [{ ...endpointExample, current_state: "init", disabled: true, updated_at: T0 }],
  operations: [operationExample],
  roles: [roleExample],
  databases: [databaseExample],
};

/** One example per error status, all in the one envelope. */
export const serverExample = {
  id: "db.internal:5432",
  host: "db.internal",
  port: 5432,
  project_ids: [ids.project],
  storage_budget_bytes: 53_687_091_200,
  used_bytes: 1_288_490_188,
};

export const errorExamples = {
  400: { code: "INVALID_REQUEST", message: "masking_rules[0].column_name: column_name must not be empty" },
  401: { code: "UNAUTHORIZED", message: "missing bearer token: send Authorization: Bearer <key>" },
  403: { code: "FORBIDDEN", message: "alice-laptop (developer) has no access to project shiny-field-123456" },
  404: { code: "NOT_FOUND", message: "branch br-young-grass-233882 not found" },
  409: { code: "BRANCH_NAME_TAKEN", message: 'branch_create.branch.name: a branch named "pr-42" already exists (br-young-grass-233882)' },
  422: {
    code: "INVALID_MASKING_RULES",
    message: 'masking_rules[1]: column "emial" does not exist in table shop.public.users (did you mean "email"?)',
  },
  429: { code: "RATE_LIMITED", message: "too many requests for alice-laptop: at most 40 per second on this route; retry after 1 s" },
  503: { code: "UNAVAILABLE", message: "a database server this request needs is unreachable or restarting; retry in 2 s (GET /readyz says which)" },
  423: {
    code: "LOCKED",
    message: "branch br-young-grass-233882 is busy with operation create_branch (029a1ead-e247-424c-97da-a2207df347c9); retry when it has finished",
  },
} as const;

/** POST /projects: the project, its default branch `main` over the parent databases, and their resources. */
export const projectCreatedExample = {
  project: projectExample,
  branch: mainBranchExample,
  databases: [{ ...databaseExample, id: 1, branch_id: ids.mainBranch, owner_name: "postgres" }],
  roles: [{ ...roleExample, branch_id: ids.mainBranch, name: "postgres", protected: true }],
  endpoints: [{ ...endpointExample, id: ids.mainEndpoint, branch_id: ids.mainBranch, host: "ep-calm-lake-100002.db.example.com" }],
  operations: [],
};

export const deleteOperationExample = { ...operationExample, action: "delete_timeline", endpoint_id: undefined };
