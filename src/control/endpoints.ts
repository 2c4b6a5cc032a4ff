// Branch endpoints: the address a client connects to for one branch. Every
// anonymized branch gets an endpoint on the endpoint proxy (src/endpoint/):
// its own port there, or — with ANONBRANCH_ENDPOINT_DOMAIN and a wildcard DNS
// name — ep-….<domain> on the proxy's shared port, routed by TLS SNI. The
// default branch has none: it is the parent server itself, for admins only.
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { branches, projects } from "../db/schema.ts";
import { conflict } from "../lib/errors.ts";
import type { Services } from "./context.ts";

type BranchRow = typeof branches.$inferSelect;
type ProjectRow = typeof projects.$inferSelect;
type EndpointConfig = Pick<
  Services["config"],
  "ANONBRANCH_ENDPOINT_HOST" | "ANONBRANCH_ENDPOINT_PORTS" | "ANONBRANCH_ENDPOINT_PORT" | "ANONBRANCH_ENDPOINT_DOMAIN"
>;

const PORT_LOCK = 0x706f7274; // "port"

/**
 * The transaction-level advisory lock that serialises port allocation, as an
 * expression, so that a caller can take it in one statement with its others
 * (always in the same order, so two callers never deadlock).
 */
export const endpointPortsLock = sql`pg_catalog.pg_advisory_xact_lock(${PORT_LOCK})`;

/**
 * The lowest port of the range that no live branch holds, as an expression
 * (NULL when every port is taken). The caller holds endpointPortsLock, so
 * concurrent creates never pick the same.
 */
export const freeEndpointPortSql = (config: EndpointConfig) => {
  const { first, last } = config.ANONBRANCH_ENDPOINT_PORTS;
  return sql<number | null>`(
    SELECT p FROM pg_catalog.generate_series(${first}::int, ${last}::int) AS p
    WHERE NOT EXISTS (SELECT 1 FROM ${branches} b WHERE b.endpoint_port = p AND b.deleted_at IS NULL)
    ORDER BY p LIMIT 1)`;
};

export function endpointPortsExhausted(config: EndpointConfig) {
  const { first, last } = config.ANONBRANCH_ENDPOINT_PORTS;
  return conflict(
    `every endpoint port (${first}-${last}) is taken by a live branch; delete branches or widen ANONBRANCH_ENDPOINT_PORTS`,
    "ENDPOINT_PORTS_EXHAUSTED",
  );
}

/** Gives a port to live anonymized branches made before endpoints existed. */
export async function assignMissingEndpointPorts(svc: Services): Promise<number> {
  const missing = await svc.db
    .select({ id: branches.id })
    .from(branches)
    .where(and(isNull(branches.endpointPort), isNull(branches.deletedAt), isNotNull(branches.anonState)));
  for (const { id } of missing) {
    await svc.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT ${endpointPortsLock}`);
      const [done] = await tx
        .update(branches)
        .set({ endpointPort: freeEndpointPortSql(svc.config) })
        .where(and(eq(branches.id, id), isNull(branches.endpointPort)))
        .returning({ port: branches.endpointPort });
      if (done && done.port === null) throw endpointPortsExhausted(svc.config);
    });
  }
  return missing.length;
}

/** host[:port] as clients connect to it (Neon's endpoint.host may carry a port). */
export function endpointHost(config: EndpointConfig, project: ProjectRow, branch: BranchRow): string {
  if (branch.anonState === null) return project.port === 5432 ? project.host : `${project.host}:${project.port}`;
  const domain = config.ANONBRANCH_ENDPOINT_DOMAIN;
  if (domain) {
    const port = config.ANONBRANCH_ENDPOINT_PORT;
    return port === 5432 ? `${branch.endpointId}.${domain}` : `${branch.endpointId}.${domain}:${port}`;
  }
  return `${config.ANONBRANCH_ENDPOINT_HOST}:${branch.endpointPort ?? 0}`;
}

/** The role name clients use on a branch: the project's logical owner, or the parent's admin. */
export function clientRoleName(project: ProjectRow, branch: BranchRow): string | null {
  return branch.anonState === null ? branch.roleName : project.ownerRoleName;
}

export interface EndpointTarget {
  branch: BranchRow;
  project: ProjectRow;
}

/** The live anonymized branch behind an endpoint port or id, with its project. */
export async function findEndpoint(db: Db, by: { port: number } | { endpointId: string }): Promise<EndpointTarget | null> {
  const [row] = await db
    .select({ branch: branches, project: projects })
    .from(branches)
    .innerJoin(projects, eq(projects.id, branches.projectId))
    .where(
      and(
        "port" in by ? eq(branches.endpointPort, by.port) : eq(branches.endpointId, by.endpointId),
        isNotNull(branches.anonState),
        isNull(projects.deletedAt),
      ),
    )
    .orderBy(sql`${branches.deletedAt} IS NULL DESC`, sql`${branches.createdAt} DESC`)
    .limit(1);
  return row ?? null;
}
