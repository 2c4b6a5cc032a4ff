// The sensitive-column scan: what looks like personal data in the parent
// databases, and whether the project's (or a branch's) rules mask it or an
// admin has decided it is not sensitive. By default it reads the schema only,
// so every role with access to the project may ask; with `sample` it also
// reads a bounded sample of values (admins only: those are production rows)
// and answers with evidence — detectors and shares, never a value.
import { sampleKindOf, sampleTables, MAX_SAMPLE_ROWS, type SampleTarget } from "../dataplane/sample-values.ts";
import { columnKey, scanSensitiveColumns } from "../masking/sensitive.ts";
import type { DatabaseCatalog } from "../masking/types.ts";
import { columnEvidence, type ValueEvidence } from "../masking/value-evidence.ts";
import { loadBranch, loadDefaultBranch, loadProject, requireAdmin } from "./access.ts";
import { recordAudit } from "./audit.ts";
import type { Principal, Services } from "./context.ts";
import { branchDatabaseRows, loadCatalogs, storedRules } from "./masking-rules.ts";
import { storedDecisions } from "./not-sensitive-columns.ts";

export interface SensitiveColumnsQuery {
  branchId?: string;
  /** Also sample values (admin only). */
  sample?: boolean;
}

interface SamplingSummary {
  max_rows_per_table: number;
  tables: { database_name: string; schema_name: string; table_name: string; rows_read: number; method: string }[];
  skipped: { database_name: string; schema_name: string; table_name: string; reason: string }[];
}

function targetsOf(catalog: DatabaseCatalog): SampleTarget[] {
  return catalog.tables
    .map((t) => ({
      schema: t.schema,
      table: t.name,
      columns: t.columns.flatMap((c) => {
        const kind = sampleKindOf(c.dataType);
        return kind ? [{ name: c.name, kind }] : [];
      }),
    }))
    .filter((t) => t.columns.length > 0);
}

/** Samples every parent database, one at a time; returns evidence per column. */
async function sampleEvidence(
  sourceUri: string,
  databases: { name: string; physicalName: string }[],
  catalogs: Record<string, DatabaseCatalog>,
): Promise<{ evidence: Map<string, ValueEvidence[]>; summary: SamplingSummary }> {
  const evidence = new Map<string, ValueEvidence[]>();
  const summary: SamplingSummary = { max_rows_per_table: MAX_SAMPLE_ROWS, tables: [], skipped: [] };
  for (const d of databases) {
    const targets = targetsOf(catalogs[d.name]!);
    const kinds = new Map(targets.flatMap((t) => t.columns.map((c) => [JSON.stringify([t.schema, t.table, c.name]), c.kind] as const)));
    const report = await sampleTables(sourceUri, d.physicalName, targets, (sample) => {
      for (const [column, values] of sample.values) {
        const kind = kinds.get(JSON.stringify([sample.schema, sample.table, column]));
        const found = columnEvidence(values, { json: kind === "json", numeric: kind === "numeric" });
        if (found.length > 0) {
          evidence.set(columnKey({ database_name: d.name, schema_name: sample.schema, table_name: sample.table, column_name: column }), found);
        }
      }
    });
    for (const t of report.tables) {
      summary.tables.push({ database_name: d.name, schema_name: t.schema, table_name: t.table, rows_read: t.rows, method: t.method });
    }
    for (const s of report.skipped) {
      summary.skipped.push({ database_name: d.name, schema_name: s.schema, table_name: s.table, reason: s.reason });
    }
  }
  return { evidence, summary };
}

export async function sensitiveColumns(svc: Services, principal: Principal, projectId: string, query: SensitiveColumnsQuery = {}) {
  const project = await loadProject(svc.db, principal, projectId);
  if (query.sample) requireAdmin(principal);
  const main = await loadDefaultBranch(svc.db, projectId);
  const rules = query.branchId ? await storedRules(svc.db, (await loadBranch(svc.db, projectId, query.branchId)).id) : project.maskingRules;
  const masked = new Set(rules.map(columnKey));
  const decisions = new Map((await storedDecisions(svc.db, projectId)).map((d) => [columnKey(d), d]));
  const sourceUri = await svc.secrets.open(project.sourceUriEncrypted);
  const databases = await branchDatabaseRows(svc.db, main.id);
  const catalogs = await loadCatalogs(sourceUri, databases);
  const sampled = query.sample ? await sampleEvidence(sourceUri, databases, catalogs) : undefined;
  if (sampled) {
    // Reading production rows is worth a line in the audit log, like revealing a password.
    const rows = sampled.summary.tables.reduce((n, t) => n + t.rows_read, 0);
    await recordAudit(svc.db, principal, { action: "sensitive_columns.sample", projectId, after: { tables: sampled.summary.tables.length, rows_read: rows } });
  }
  const columns = (await scanSensitiveColumns(catalogs, sampled?.evidence)).map((c) => {
    const decision = decisions.get(columnKey(c));
    return {
      ...c,
      masked: masked.has(columnKey(c)),
      ...(decision ? { not_sensitive: { ...(decision.reason ? { reason: decision.reason } : {}), decided_by: decision.decided_by, decided_at: decision.decided_at } } : {}),
    };
  });
  return {
    rules_of: query.branchId ? { branch_id: query.branchId } : { project_id: projectId },
    columns,
    coverage: {
      sensitive: columns.length,
      masked: columns.filter((c) => c.masked).length,
      not_sensitive: columns.filter((c) => !c.masked && c.not_sensitive).length,
      uncovered: columns.filter((c) => !c.masked && !c.not_sensitive).length,
    },
    ...(sampled ? { sampling: sampled.summary } : {}),
  };
}
