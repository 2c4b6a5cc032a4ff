// "Not sensitive" decisions: columns an admin has looked at and decided hold
// no personal data, kept per project so the coverage gate stops flagging
// them. Replaced as a whole set (like masking rules), validated against the
// parent databases, audited.
import { and, asc, eq } from "drizzle-orm";
import type { Db, Tx } from "../db/client.ts";
import { notSensitiveColumns } from "../db/schema.ts";
import { DomainError } from "../lib/errors.ts";
import { suggestion } from "../masking/expression.ts";
import type { DatabaseCatalog } from "../masking/types.ts";
import { loadDefaultBranch, loadProject, requireAdmin } from "./access.ts";
import { recordAudit } from "./audit.ts";
import type { Principal, Services } from "./context.ts";
import { branchDatabaseRows, loadCatalogs } from "./masking-rules.ts";

export interface NotSensitiveInput {
  database_name: string;
  schema_name: string;
  table_name: string;
  column_name: string;
  reason?: string | null;
}

export interface NotSensitiveDecision extends Omit<NotSensitiveInput, "reason"> {
  reason?: string;
  decided_by: string;
  decided_at: string;
}

const keyOf = (c: NotSensitiveInput): string => JSON.stringify([c.database_name, c.schema_name, c.table_name, c.column_name]);
const cleanReason = (reason: string | null | undefined): string | null => reason?.trim() || null;

function present(row: typeof notSensitiveColumns.$inferSelect): NotSensitiveDecision {
  return {
    database_name: row.databaseName,
    schema_name: row.schemaName,
    table_name: row.tableName,
    column_name: row.columnName,
    ...(row.reason ? { reason: row.reason } : {}),
    decided_by: row.decidedBy,
    decided_at: row.decidedAt.toISOString(),
  };
}

export async function storedDecisions(db: Db | Tx, projectId: string): Promise<NotSensitiveDecision[]> {
  const rows = await db
    .select()
    .from(notSensitiveColumns)
    .where(eq(notSensitiveColumns.projectId, projectId))
    .orderBy(asc(notSensitiveColumns.databaseName), asc(notSensitiveColumns.schemaName), asc(notSensitiveColumns.tableName), asc(notSensitiveColumns.columnName));
  return rows.map(present);
}

/** Every reason to refuse the set, each naming its entry; empty = fine. */
function problemsWith(entries: NotSensitiveInput[], catalogs: Record<string, DatabaseCatalog>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const at = `not_sensitive_columns[${i}]`;
    const earlier = seen.get(keyOf(e));
    if (earlier !== undefined) {
      problems.push(`${at}: duplicate of not_sensitive_columns[${earlier}] (${e.database_name}.${e.schema_name}.${e.table_name}.${e.column_name})`);
      return;
    }
    seen.set(keyOf(e), i);
    const catalog = Object.hasOwn(catalogs, e.database_name) ? catalogs[e.database_name] : undefined;
    if (!catalog) {
      problems.push(`${at}.database_name: database "${e.database_name}" is not a database of the project${suggestion(e.database_name, Object.keys(catalogs))}`);
      return;
    }
    const tables = catalog.tables.filter((t) => t.schema === e.schema_name);
    const table = tables.find((t) => t.name === e.table_name);
    if (tables.length === 0) {
      problems.push(`${at}.schema_name: schema "${e.schema_name}" has no tables in database ${e.database_name}${suggestion(e.schema_name, new Set(catalog.tables.map((t) => t.schema)))}`);
    } else if (!table) {
      problems.push(`${at}.table_name: table "${e.table_name}" does not exist in schema ${e.database_name}.${e.schema_name}${suggestion(e.table_name, tables.map((t) => t.name))}`);
    } else if (!table.columns.some((c) => c.name === e.column_name)) {
      problems.push(`${at}.column_name: column "${e.column_name}" does not exist in table ${e.database_name}.${e.schema_name}.${e.table_name}${suggestion(e.column_name, table.columns.map((c) => c.name))}`);
    }
  });
  return problems;
}

export async function getNotSensitiveColumns(svc: Services, principal: Principal, projectId: string) {
  await loadProject(svc.db, principal, projectId);
  return { not_sensitive_columns: await storedDecisions(svc.db, projectId) };
}

/**
 * PUT: replaces the project's decisions. A decision that is kept unchanged
 * keeps who made it and when; new or changed ones are the caller's.
 */
export async function replaceNotSensitiveColumns(svc: Services, principal: Principal, projectId: string, entries: NotSensitiveInput[]) {
  requireAdmin(principal);
  const project = await loadProject(svc.db, principal, projectId);
  const main = await loadDefaultBranch(svc.db, projectId);
  const sourceUri = await svc.secrets.open(project.sourceUriEncrypted);
  const problems = problemsWith(entries, await loadCatalogs(sourceUri, await branchDatabaseRows(svc.db, main.id)));
  if (problems.length > 0) throw new DomainError("invalid", "INVALID_NOT_SENSITIVE_COLUMNS", problems.join("; "));
  return svc.db.transaction(async (tx) => {
    const before = await storedDecisions(tx, projectId);
    const kept = new Map(before.map((d) => [keyOf(d), d]));
    await tx.delete(notSensitiveColumns).where(and(eq(notSensitiveColumns.projectId, projectId)));
    if (entries.length > 0) {
      await tx.insert(notSensitiveColumns).values(
        entries.map((e) => {
          const old = kept.get(keyOf(e));
          const reason = cleanReason(e.reason);
          const same = old !== undefined && (old.reason ?? null) === reason;
          return {
            projectId,
            databaseName: e.database_name,
            schemaName: e.schema_name,
            tableName: e.table_name,
            columnName: e.column_name,
            reason,
            decidedBy: same ? old.decided_by : principal.name,
            decidedAt: same ? new Date(old.decided_at) : new Date(),
          };
        }),
      );
    }
    const after = await storedDecisions(tx, projectId);
    await recordAudit(tx, principal, { action: "project.not_sensitive_columns.replace", projectId, before, after });
    return { not_sensitive_columns: after };
  });
}
