// Static masking of one branch database, then the hardening that makes the
// original values unrecoverable, then the hand-over to the branch role.
import { quoteIdent, quoteQualified } from "../lib/sql-quote.ts";
import { SAFE_SEARCH_PATH, type DataPlaneSql } from "./connection.ts";
import type { MaskingPath, TablePlan } from "./masking-plan.ts";

export interface TableOutcome {
  schema: string;
  table: string;
  path: MaskingPath;
  /** Why the anon path, when it is. */
  reason: string | null;
  columns: number;
  ms: number;
}

export interface MaskingProgress {
  /** A table is about to be masked. */
  onStart(table: TablePlan): Promise<void>;
  /** A table (masked, or one a foreign key cascaded into) is about to be hardened. */
  onHarden(table: { schema: string; table: string }): Promise<void>;
  /** A table is masked and hardened (rewritten, statistics replaced). */
  onDone(outcome: TableOutcome): Promise<void> | void;
}

/** A table's masking failed: the message names the table and PostgreSQL's reason. */
export class TableMaskingFailed extends Error {
  constructor(readonly table: string, cause: unknown) {
    super(`${table}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

const nameOf = (t: { schema: string; table: string }): string => quoteQualified(t.schema, t.table);

/**
 * Masks every planned table of one database in a masker session
 * (src/dataplane/sessions.ts): a session that logged in as a member of the
 * branch role, so a masking expression, a CHECK, a rule, a policy or a
 * trigger can do no more than the branch's own user could — and there is no
 * superuser behind it to RESET ROLE back to.
 *
 * Rewrite-path tables go first, up to `parallelism` at once (each on its own
 * connection, each hardened as soon as it is masked); the anon-path tables
 * follow in one transaction. A rewrite that PostgreSQL refuses as not
 * supported falls back to the anon path. Materialized views are refreshed last.
 */
export async function maskDatabase(
  masker: DataPlaneSql,
  plans: TablePlan[],
  parallelism: number,
  progress: MaskingProgress,
): Promise<TableOutcome[]> {
  const outcomes: TableOutcome[] = [];
  const anonPath = plans.filter((p) => p.path === "anon");
  const queue = plans.filter((p) => p.path === "rewrite");
  let failure: unknown = null;
  const lane = async (): Promise<void> => {
    for (let t = queue.shift(); t && failure === null; t = queue.shift()) {
      try {
        const done = await rewriteTable(masker, t, progress);
        if ("fallback" in done) anonPath.push(done.fallback);
        else outcomes.push(done);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallelism, queue.length)) }, lane));
  if (failure !== null) throw failure;
  if (anonPath.length > 0) outcomes.push(...(await anonymizeTables(masker, anonPath, progress)));
  if (plans.length > 0) await refreshMaterializedViews(masker);
  return outcomes;
}

async function rewriteTable(
  masker: DataPlaneSql,
  t: TablePlan,
  progress: MaskingProgress,
): Promise<TableOutcome | { fallback: TablePlan }> {
  const started = performance.now();
  await progress.onStart(t);
  const columns = t.columns.map(
    (c) => `ALTER COLUMN ${quoteIdent(c.name)} TYPE ${c.type} USING (\n${c.expression}\n)`,
  );
  try {
    await masker.begin(async (tx) => {
      await tx.unsafe(`SET LOCAL search_path = ${SAFE_SEARCH_PATH}`);
      await tx.unsafe(`ALTER TABLE ${nameOf(t)} ${columns.join(",\n  ")}`);
    });
  } catch (error) {
    // 0A000: "cannot alter type of a column used by …" — something the plan did not see.
    if ((error as { code?: string }).code === "0A000") {
      return { fallback: { ...t, path: "anon", reason: (error as Error).message } };
    }
    throw new TableMaskingFailed(`${t.schema}.${t.table}`, error);
  }
  await progress.onHarden(t);
  await masker.unsafe(`ANALYZE ${nameOf(t)}`);
  const outcome: TableOutcome = {
    schema: t.schema, table: t.table, path: "rewrite", reason: null, columns: t.columns.length,
    ms: Math.round(performance.now() - started),
  };
  await progress.onDone(outcome);
  return outcome;
}

interface Switch {
  table: string;
  kind: "TRIGGER" | "RULE";
  name: string;
}

/**
 * PostgreSQL Anonymizer's procedure, for tables the rewrite cannot take: one
 * transaction with user triggers and rules off — on the tables and on those a
 * foreign key cascades into — (an audit trigger or an ON UPDATE DO ALSO rule
 * would copy every original row elsewhere), anon.anonymize_table() on each,
 * then VACUUM FULL so no dead tuple keeps an original. The masker bypasses row
 * security (BYPASSRLS): a forced policy cannot hide rows from the UPDATE.
 */
async function anonymizeTables(masker: DataPlaneSql, tables: TablePlan[], progress: MaskingProgress): Promise<TableOutcome[]> {
  const oids = tables.map((t) => t.oid);
  const started = new Map<number, number>();
  let touched: { oid: number; schema: string; table: string }[] = [];
  let current = tables[0]!;
  try {
    await masker.begin(async (tx) => {
      await tx.unsafe(`SET LOCAL search_path = ${SAFE_SEARCH_PATH}`);
      touched = (await tx`
        SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS table FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = ANY(${oids}::oid[])
           OR c.oid IN (SELECT conrelid FROM pg_catalog.pg_constraint
                        WHERE contype = 'f' AND confrelid = ANY(${oids}::oid[]) AND confupdtype IN ('c', 'n', 'd'))`) as unknown as typeof touched;
      const switches = (await tx`
        SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS table, 'TRIGGER' AS kind, t.tgname AS name
          FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND c.oid = ANY(${touched.map((t) => t.oid)}::oid[])
        UNION ALL
        SELECT pg_catalog.format('%I.%I', n.nspname, c.relname), 'RULE', r.rulename
          FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE r.rulename <> '_RETURN' AND r.ev_enabled <> 'D' AND c.oid = ANY(${touched.map((t) => t.oid)}::oid[])`) as unknown as Switch[];
      for (const s of switches) await tx.unsafe(`ALTER TABLE ${s.table} DISABLE ${s.kind} ${quoteIdent(s.name)}`);
      for (const t of tables) {
        current = t;
        started.set(t.oid, performance.now());
        await progress.onStart(t);
        await tx`SELECT anon.anonymize_table(${t.oid}::pg_catalog.oid::pg_catalog.regclass)`;
      }
      for (const s of switches) await tx.unsafe(`ALTER TABLE ${s.table} ENABLE ${s.kind} ${quoteIdent(s.name)}`);
    });
  } catch (error) {
    throw new TableMaskingFailed(`${current.schema}.${current.table}`, error);
  }
  const outcomes: TableOutcome[] = [];
  for (const t of touched) {
    await progress.onHarden(t);
    await masker.unsafe(`VACUUM (FULL, ANALYZE) ${nameOf(t)}`);
  }
  for (const t of tables) {
    const outcome: TableOutcome = {
      schema: t.schema, table: t.table, path: "anon", reason: t.reason, columns: t.columns.length,
      ms: Math.round(performance.now() - (started.get(t.oid) ?? performance.now())),
    };
    outcomes.push(outcome);
    await progress.onDone(outcome);
  }
  return outcomes;
}

/** Every materialized view of the user schemas, recomputed from the masked tables and rewritten. */
async function refreshMaterializedViews(masker: DataPlaneSql): Promise<void> {
  const views = await masker`
    SELECT n.nspname AS schema, c.relname AS table
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'm' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'anon') AND n.nspname !~ '^pg_'
    ORDER BY 1, 2`;
  for (const v of views as unknown as { schema: string; table: string }[]) {
    await masker.unsafe(`REFRESH MATERIALIZED VIEW ${nameOf(v)}`);
    await masker.unsafe(`VACUUM (FULL, ANALYZE) ${nameOf(v)}`);
  }
}

const userSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'anon') AND n.nspname NOT LIKE 'pg\\_%'`;
const notFromExtension = (classOid: string, objOid: string): string =>
  `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = '${classOid}'::pg_catalog.regclass AND d.objid = ${objOid} AND d.deptype = 'e')`;

/**
 * Gives the branch's objects to its role, object by object: user schemas,
 * relations, routines and types. Never REASSIGN OWNED, which would also move
 * shared objects such as other databases owned by the same role. ALTER …
 * OWNER runs no user code; the admin session runs it with event triggers off
 * (disableEventTriggers) and search_path pinned. The role still cannot
 * connect: that is grantAccess(), once the branch is masked.
 */
export async function handOverObjects(db: DataPlaneSql, role: string): Promise<void> {
  const r = quoteIdent(role);
  await db.begin(async (tx) => {
    const schemas = await tx.unsafe(
      `SELECT pg_catalog.quote_ident(n.nspname) AS name FROM pg_catalog.pg_namespace n
       WHERE ${userSchemas} AND ${notFromExtension("pg_catalog.pg_namespace", "n.oid")}`,
    );
    for (const s of schemas) await tx.unsafe(`ALTER SCHEMA ${s.name} OWNER TO ${r}`);

    const relations = await tx.unsafe(
      `SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name, c.relkind AS kind
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${userSchemas}
         AND ${notFromExtension("pg_catalog.pg_class", "c.oid")}
       ORDER BY c.relkind = 'S'`,
    );
    const command: Record<string, string> = {
      r: "TABLE", p: "TABLE", f: "FOREIGN TABLE", v: "VIEW", m: "MATERIALIZED VIEW", S: "SEQUENCE",
    };
    for (const rel of relations) await tx.unsafe(`ALTER ${command[rel.kind]} ${rel.name} OWNER TO ${r}`);

    const routines = await tx.unsafe(
      `SELECT p.oid::pg_catalog.regprocedure::text AS name FROM pg_catalog.pg_proc p
       JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
       WHERE ${userSchemas} AND ${notFromExtension("pg_catalog.pg_proc", "p.oid")}`,
    );
    for (const f of routines) await tx.unsafe(`ALTER ROUTINE ${f.name} OWNER TO ${r}`);

    const types = await tx.unsafe(
      `SELECT pg_catalog.format('%I.%I', n.nspname, t.typname) AS name FROM pg_catalog.pg_type t
       JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
       WHERE t.typtype IN ('e', 'd', 'r') AND ${userSchemas}
         AND ${notFromExtension("pg_catalog.pg_type", "t.oid")}`,
    );
    for (const t of types) await tx.unsafe(`ALTER TYPE ${t.name} OWNER TO ${r}`);

    // The masking functions and their fake-data tables stay the admin's; the role may use them.
    await tx.unsafe(`GRANT USAGE ON SCHEMA anon TO ${r}`);
    await tx.unsafe(`GRANT SELECT ON ALL TABLES IN SCHEMA anon TO ${r}`);
  });
}

/**
 * Turns off every event trigger of a branch database. They came from the
 * parent with the clone, and their functions become the branch role's with
 * handOverObjects(): left on, the admin's own DDL in the branch (CREATE
 * EXTENSION, ALTER … OWNER, SECURITY LABEL) would run them as superuser.
 * Only a superuser can create or enable an event trigger, so once off they
 * stay off. The parent's stay as they are.
 */
export async function disableEventTriggers(db: DataPlaneSql): Promise<number> {
  const enabled = await db`SELECT evtname FROM pg_catalog.pg_event_trigger WHERE evtenabled <> 'D'`;
  for (const { evtname } of enabled) await db.unsafe(`ALTER EVENT TRIGGER ${quoteIdent(evtname as string)} DISABLE`);
  return enabled.length;
}

/** Opens the masked branch database to its role (and only to it). */
export async function grantAccess(admin: DataPlaneSql, database: string, role: string): Promise<void> {
  const r = quoteIdent(role);
  await admin.unsafe(`ALTER DATABASE ${quoteIdent(database)} OWNER TO ${r}`);
  await admin.unsafe(`GRANT CONNECT, TEMPORARY ON DATABASE ${quoteIdent(database)} TO ${r}`);
}
