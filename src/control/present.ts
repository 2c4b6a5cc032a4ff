// Metadata rows → Neon API v2 shapes. Fields Neon has and a self-hosted server
// has no meaning for (usage counters, regions) get fixed, honest values.
import type { anonymizationRuns, branchDatabases, branches, operations, projects } from "../db/schema.ts";

type ProjectRow = typeof projects.$inferSelect;
type BranchRow = typeof branches.$inferSelect;
type DatabaseRow = typeof branchDatabases.$inferSelect;
type OperationRow = typeof operations.$inferSelect;
type RunRow = typeof anonymizationRuns.$inferSelect;

const iso = (d: Date | null | undefined): string | undefined => (d ? d.toISOString() : undefined);

export function presentProject(p: ProjectRow) {
  return {
    id: p.id,
    platform_id: "self-hosted",
    region_id: "self-hosted",
    name: p.name,
    provisioner: "k8s-pod",
    pg_version: p.pgVersion,
    proxy_host: p.host,
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
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
    consumption_period_start: p.createdAt.toISOString(),
    consumption_period_end: p.createdAt.toISOString(),
    settings: { quota: { logical_size_bytes: p.settings.quota?.logical_size_bytes ?? null, max_branches: p.settings.quota?.max_branches ?? null } },
  };
}

export function presentBranch(b: BranchRow) {
  return {
    id: b.id,
    project_id: b.projectId,
    parent_id: b.parentId ?? undefined,
    name: b.name,
    current_state: b.currentState,
    state_changed_at: b.stateChangedAt.toISOString(),
    creation_source: "anonbranch",
    primary: b.isDefault,
    default: b.isDefault,
    protected: b.protected,
    cpu_used_sec: 0,
    compute_time_seconds: 0,
    active_time_seconds: 0,
    written_data_bytes: 0,
    data_transfer_bytes: 0,
    created_at: b.createdAt.toISOString(),
    updated_at: b.updatedAt.toISOString(),
    expires_at: iso(b.expiresAt),
    last_reset_at: iso(b.lastResetAt),
    init_source: "parent-data",
    // Marks anonymized branches the way Neon does: what they cannot do.
    restricted_actions:
      b.anonState === null
        ? undefined
        : [
            { name: "restore", reason: "anonymized branches hold masked data and cannot be restored" },
            { name: "reset-to-parent", reason: "use POST …/reset_to_parent, which re-masks the parent's data" },
          ],
    anonymized: b.anonState !== null,
  };
}

export function presentEndpoint(b: BranchRow, host: string) {
  const ready = b.currentState === "ready";
  return {
    host,
    id: b.endpointId,
    project_id: b.projectId,
    branch_id: b.id,
    autoscaling_limit_min_cu: 0.25,
    autoscaling_limit_max_cu: 0.25,
    region_id: "self-hosted",
    type: "read_write",
    current_state: ready ? "active" : "init",
    settings: {},
    pooler_enabled: false,
    pooler_mode: "transaction",
    disabled: !ready,
    passwordless_access: false,
    creation_source: "anonbranch",
    created_at: b.createdAt.toISOString(),
    updated_at: b.updatedAt.toISOString(),
    proxy_host: host,
    suspend_timeout_seconds: 0,
    provisioner: "k8s-pod",
  };
}

/** `ownerName`: the role clients see (the logical owner on anonymized branches). */
export function presentDatabase(d: DatabaseRow, ownerName: string | null = null) {
  return {
    id: d.id,
    branch_id: d.branchId,
    name: d.name,
    owner_name: ownerName ?? d.ownerName,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}

export function presentRole(branchId: string, name: string, createdAt: Date, isProtected: boolean) {
  return {
    branch_id: branchId,
    name,
    protected: isProtected,
    authentication_method: "password",
    created_at: createdAt.toISOString(),
    updated_at: createdAt.toISOString(),
  };
}

export function presentOperation(o: OperationRow) {
  const end = o.finishedAt ?? o.updatedAt;
  return {
    id: o.id,
    project_id: o.projectId,
    branch_id: o.branchId ?? undefined,
    endpoint_id: o.endpointId ?? undefined,
    action: o.action,
    status: o.status,
    error: o.error ?? undefined,
    failures_count: o.failuresCount,
    retry_at: iso(o.retryAt),
    created_at: o.createdAt.toISOString(),
    updated_at: o.updatedAt.toISOString(),
    total_duration_ms: Math.max(0, end.getTime() - o.createdAt.getTime()),
  };
}

export function presentAnonymizedStatus(b: BranchRow, run: RunRow | undefined) {
  return {
    project_id: b.projectId,
    branch_id: b.id,
    state: b.anonState ?? "created",
    status_message: b.statusMessage ?? "",
    created_at: b.createdAt.toISOString(),
    updated_at: b.updatedAt.toISOString(),
    failed_at: iso(b.failedAt),
    last_run: run
      ? {
          started_at: iso(run.startedAt),
          completed_at: iso(run.completedAt),
          triggered_by: run.triggeredBy,
          triggered_by_username: run.triggeredByUsername,
          masked_columns: run.maskedColumns ?? 0,
          tables: run.tables?.map((t) => ({ ...t, path: t.path === "anon" ? ("anon" as const) : ("rewrite" as const) })),
        }
      : undefined,
  };
}
