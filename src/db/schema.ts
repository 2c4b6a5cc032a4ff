// Metadata schema (drizzle). Migrations in migrations/ are generated from this
// file with `npm run db:generate` and applied by src/db/migrate.ts.
import { sql } from "drizzle-orm";
import type { MaskingRule } from "../masking/types.ts";
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
};

export interface ProjectSettings {
  quota?: {
    /** Total size of the branch copies the project made (parents not counted). */
    logical_size_bytes?: number | null;
    /** Branches the project may have besides its default branch. */
    max_branches?: number | null;
  };
}

/** A registered data-plane server and the parent databases of its default branch. */
export const projects = pgTable("projects", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** Admin connection URI of the data-plane server, encrypted (JWE). Never logged. */
  sourceUriEncrypted: text("source_uri_encrypted").notNull(),
  /** Host shown in endpoints (from the source URI, without credentials). */
  host: text("host").notNull(),
  port: integer("port").notNull(),
  pgVersion: integer("pg_version").notNull(),
  /**
   * The project's masking rules: used by branches created without rules, and a
   * floor for developer and ci principals, whose rule sets must mask every
   * column listed here.
   */
  maskingRules: jsonb("masking_rules").$type<MaskingRule[]>().notNull().default([]),
  /** The owner role's name as clients see it at every branch endpoint (Neon's default). */
  ownerRoleName: text("owner_role_name").notNull().default("neondb_owner"),
  /** Neon's project settings; we honour settings.quota (src/control/limits.ts). */
  settings: jsonb("settings").$type<ProjectSettings>().notNull().default({}),
  ...timestamps,
  deletedAt: timestamp("deleted_at", { withTimezone: true }),
});

export const anonymizationStates = [
  "created",
  "initialized",
  "initialization_error",
  "anonymizing",
  "anonymized",
  "error",
] as const;
export type AnonymizationState = (typeof anonymizationStates)[number];

export const branches = pgTable(
  "branches",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.id),
    name: text("name").notNull(),
    parentId: text("parent_id"),
    isDefault: boolean("is_default").notNull().default(false),
    protected: boolean("protected").notNull().default(false),
    /** Neon's branch state: init | ready | deleting. */
    currentState: text("current_state").notNull(),
    stateChangedAt: timestamp("state_changed_at", { withTimezone: true }).notNull().defaultNow(),
    /** NULL for branches that are not anonymized (the default branch). */
    anonState: text("anon_state").$type<AnonymizationState>(),
    statusMessage: text("status_message"),
    failedAt: timestamp("failed_at", { withTimezone: true }),
    endpointId: text("endpoint_id").notNull(),
    /** The endpoint's own port on the proxy (anonymized branches; unique among live branches). */
    endpointPort: integer("endpoint_port"),
    /**
     * Set when the endpoint admits a client, cleared when a run ends: while it is
     * false the branch's labels are the stored rules, so reads need not look.
     */
    userSessionsSinceRun: boolean("user_sessions_since_run").notNull().default(false),
    /** Login role that owns the branch once it is anonymized. */
    roleName: text("role_name"),
    rolePasswordEncrypted: text("role_password_encrypted"),
    annotation: jsonb("annotation").$type<Record<string, string>>(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    lastResetAt: timestamp("last_reset_at", { withTimezone: true }),
    /** Size of the parent when the branch was made: what its copy takes on the server (quotas, budgets). */
    logicalSizeBytes: bigint("logical_size_bytes", { mode: "number" }),
    ...timestamps,
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("branches_project_name_key").on(t.projectId, t.name).where(sql`deleted_at IS NULL`),
    uniqueIndex("branches_endpoint_port_key").on(t.endpointPort).where(sql`deleted_at IS NULL`),
    uniqueIndex("branches_endpoint_id_key").on(t.endpointId),
    index("branches_project_created_idx").on(t.projectId, t.createdAt),
  ],
);

/** One row per logical database of a branch; physical names live only here. */
export const branchDatabases = pgTable(
  "branch_databases",
  {
    id: serial("id").primaryKey(),
    branchId: text("branch_id").notNull().references(() => branches.id),
    name: text("name").notNull(),
    physicalName: text("physical_name").notNull(),
    ownerName: text("owner_name").notNull(),
    ...timestamps,
  },
  (t) => [uniqueIndex("branch_databases_branch_name_key").on(t.branchId, t.name)],
);

export const maskingRules = pgTable(
  "masking_rules",
  {
    id: serial("id").primaryKey(),
    branchId: text("branch_id").notNull().references(() => branches.id),
    position: integer("position").notNull(),
    databaseName: text("database_name").notNull(),
    schemaName: text("schema_name").notNull(),
    tableName: text("table_name").notNull(),
    columnName: text("column_name").notNull(),
    maskingFunction: text("masking_function"),
    maskingValue: text("masking_value"),
    /** api: set through the API; sql: found as a SECURITY LABEL on the branch. */
    source: text("source").notNull().default("api"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("masking_rules_column_key").on(t.branchId, t.databaseName, t.schemaName, t.tableName, t.columnName),
  ],
);

export const anonymizationRuns = pgTable(
  "anonymization_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    branchId: text("branch_id").notNull().references(() => branches.id),
    operationId: uuid("operation_id"),
    triggeredBy: text("triggered_by").notNull(),
    triggeredByUsername: text("triggered_by_username").notNull(),
    /** The trigger's role: labels a run imports are audited under this principal. */
    triggeredByRole: text("triggered_by_role").$type<"admin" | "developer" | "ci">().notNull().default("admin"),
    status: text("status").notNull().default("scheduled"),
    startedAt: timestamp("started_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    maskedColumns: integer("masked_columns"),
    /** Per table: which path masked it (rewrite | anon), why, how long. */
    tables: jsonb("tables").$type<{ database: string; schema: string; table: string; path: string; reason: string | null; columns: number; ms: number }[]>(),
    error: text("error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("anonymization_runs_branch_idx").on(t.branchId, t.createdAt)],
);

export const operationStatuses = ["scheduling", "running", "finished", "failed", "cancelled"] as const;
export type OperationStatus = (typeof operationStatuses)[number];

export const operations = pgTable(
  "operations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: text("project_id").notNull().references(() => projects.id),
    branchId: text("branch_id"),
    endpointId: text("endpoint_id"),
    action: text("action").notNull(),
    status: text("status").$type<OperationStatus>().notNull().default("scheduling"),
    error: text("error"),
    failuresCount: integer("failures_count").notNull().default(0),
    retryAt: timestamp("retry_at", { withTimezone: true }),
    /** Retries in a row after finding a server unreachable (src/jobs/outage.ts); not counted as failures. */
    outageRetries: integer("outage_retries").notNull().default(0),
    /** The clone/mask slot this operation holds on its data-plane server; NULL while queued or done. */
    serverSlot: integer("server_slot"),
    ...timestamps,
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [index("operations_branch_idx").on(t.branchId, t.status)],
);

/** API keys are signed JWTs; this row makes them listable and revocable (jti = id). */
export const apiKeys = pgTable("api_keys", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  role: text("role").$type<"admin" | "developer" | "ci">().notNull(),
  /** Project ids the key may touch; NULL = every project (admin keys only). */
  projectIds: text("project_ids").array(),
  createdBy: text("created_by").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp("expires_at", { withTimezone: true }),
  lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
});

/** Which GitHub Actions OIDC tokens may act on a project, and as which role. */
export const oidcTrustPolicies = pgTable(
  "oidc_trust_policies",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: text("project_id").notNull().references(() => projects.id),
    issuer: text("issuer").notNull(),
    audience: text("audience").notNull(),
    /** owner/name, matched exactly against the token's `repository` claim. */
    repository: text("repository").notNull(),
    /** Optional exact match on the `ref` claim (e.g. refs/heads/main). */
    ref: text("ref"),
    /**
     * Immutable ids GitHub puts in every token. Names are reused (a deleted or
     * renamed owner or repository can be registered again by someone else);
     * ids are not. When set, the token's claim must match exactly.
     */
    repositoryId: text("repository_id"),
    repositoryOwnerId: text("repository_owner_id"),
    /** Optional exact matches on the `environment` and `job_workflow_ref` claims. */
    environment: text("environment"),
    jobWorkflowRef: text("job_workflow_ref"),
    role: text("role").$type<"developer" | "ci">().notNull().default("ci"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("oidc_trust_policies_project_idx").on(t.projectId)],
);

/** Who did what, when, to what; written in the transaction of the change itself. */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: serial("id").primaryKey(),
    projectId: text("project_id"),
    branchId: text("branch_id"),
    actorId: text("actor_id").notNull(),
    actorName: text("actor_name").notNull(),
    actorRole: text("actor_role").notNull(),
    action: text("action").notNull(),
    before: jsonb("before"),
    after: jsonb("after"),
    requestId: text("request_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("audit_events_project_idx").on(t.projectId, t.id)],
);

/**
 * Columns an admin has decided are not personal data, per project: the
 * coverage gate (`anonbranch rules check`) stops asking about them.
 */
export const notSensitiveColumns = pgTable(
  "not_sensitive_columns",
  {
    id: serial("id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.id),
    databaseName: text("database_name").notNull(),
    schemaName: text("schema_name").notNull(),
    tableName: text("table_name").notNull(),
    columnName: text("column_name").notNull(),
    reason: text("reason"),
    decidedBy: text("decided_by").notNull(),
    decidedAt: timestamp("decided_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("not_sensitive_columns_column_key").on(t.projectId, t.databaseName, t.schemaName, t.tableName, t.columnName),
  ],
);

/** Per data-plane server (host:port) settings an admin sets: the storage budget of branch copies. */
export const dataPlaneServers = pgTable(
  "data_plane_servers",
  {
    host: text("host").notNull(),
    port: integer("port").notNull(),
    storageBudgetBytes: bigint("storage_budget_bytes", { mode: "number" }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.host, t.port] })],
);

/**
 * Request counts per rate-limit key and window, shared by every API instance:
 * each adds what it admitted since its last flush and reads the total back
 * (src/control/rate-limits.ts), so no request waits on this table.
 */
export const rateLimitCounters = pgTable(
  "rate_limit_counters",
  {
    key: text("key").notNull(),
    windowStart: timestamp("window_start", { withTimezone: true }).notNull(),
    count: integer("count").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] })],
);
