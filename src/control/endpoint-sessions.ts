// Who may connect through a branch endpoint, asked by the endpoint proxy
// (src/endpoint/) for every client: before authentication (which branch, and
// the password to check), then after it (is the branch open, and how to reach
// its database). The proxy holds no state of its own but caches.
import { and, eq } from "drizzle-orm";
import { type Db } from "../db/client.ts";
import { branchDatabases, branches } from "../db/schema.ts";
import type { Services } from "./context.ts";
import { findEndpoint, type EndpointTarget } from "./endpoints.ts";

/** A connection refused with a PostgreSQL error the client shows as is. */
export interface SessionRefusal {
  kind: "refuse";
  sqlstate: string;
  message: string;
  detail?: string;
}

export interface EndpointLookup {
  /** The endpoint's own port, when the client came to it. */
  port?: number;
  /** ep-…, from TLS SNI or options=endpoint=…, on the shared port. */
  endpointId?: string;
  user: string;
  database: string;
}

export interface EndpointRoute {
  kind: "route";
  branchId: string;
  projectId: string;
  /** The logical role's password, for the proxy's SCRAM check (null: no such role, fail auth). */
  password: string | null;
}

/**
 * Step 1, before authentication: which branch, and the password the client
 * must prove. Says nothing about the branch's state (that is for clients who
 * authenticated) and nothing that tells a role name apart from a wrong password.
 */
export async function routeEndpoint(svc: Services, req: EndpointLookup): Promise<SessionRefusal | EndpointRoute> {
  const target =
    req.port !== undefined ? await findEndpoint(svc.db, { port: req.port })
    : req.endpointId !== undefined ? await findEndpoint(svc.db, { endpointId: req.endpointId })
    : null;
  if (!target) {
    return req.port === undefined && req.endpointId === undefined
      ? {
          kind: "refuse",
          sqlstate: "08004",
          message: "no endpoint given: connect to the branch's endpoint host, or pass options=endpoint=ep-… (or use TLS with the ep-… host name)",
        }
      : { kind: "refuse", sqlstate: "08004", message: `endpoint ${req.endpointId ?? `on port ${req.port}`} does not exist` };
  }
  const { branch, project } = target;
  const password = req.user === project.ownerRoleName && branch.rolePasswordEncrypted
    ? await svc.secrets.open(branch.rolePasswordEncrypted)
    : null;
  return { kind: "route", branchId: branch.id, projectId: project.id, password };
}

export interface BranchSession {
  kind: "session";
  branchId: string;
  /** Admin URI of the data-plane server (a secret: for the login window only). */
  sourceUri: string;
  physicalDatabase: string;
  ownerRole: string;
}

/**
 * Step 2, after the client authenticated: the branch must be anonymized (and
 * not deleted) and the database one of its logical databases.
 */
export async function openBranchSession(svc: Services, branchId: string, database: string): Promise<SessionRefusal | BranchSession> {
  const target = await loadTarget(svc.db, branchId);
  if (!target) return { kind: "refuse", sqlstate: "08004", message: `branch ${branchId} does not exist` };
  const { branch, project } = target;
  if (branch.deletedAt) {
    const expired = branch.expiresAt !== null && branch.expiresAt <= branch.deletedAt;
    return {
      kind: "refuse",
      sqlstate: "08004",
      message: `branch ${branch.id} ${expired ? `expired at ${branch.expiresAt!.toISOString()}` : "was deleted"}; create a new branch`,
    };
  }
  if (branch.anonState !== "anonymized") {
    const what = branch.anonState === "error" || branch.anonState === "initialization_error"
      ? `failed to anonymize (${branch.anonState})`
      : branch.anonState === "anonymizing" ? "is being anonymized" : `is not anonymized yet (${branch.anonState})`;
    return {
      kind: "refuse",
      sqlstate: "57P03",
      message: `branch ${branch.id} ${what}: ${branch.statusMessage ?? ""}`.trim(),
      detail: "An anonymized branch accepts connections once its state is anonymized; poll GET …/anonymized_status.",
    };
  }
  const [db] = await svc.db
    .select()
    .from(branchDatabases)
    .where(and(eq(branchDatabases.branchId, branch.id), eq(branchDatabases.name, database)));
  if (!db) return { kind: "refuse", sqlstate: "3D000", message: `database "${database}" does not exist` };
  // From now on the branch's labels may differ from its stored rules (src/control/masking-rules.ts).
  if (!branch.userSessionsSinceRun) {
    await svc.db.update(branches).set({ userSessionsSinceRun: true }).where(and(eq(branches.id, branch.id), eq(branches.userSessionsSinceRun, false)));
  }
  return {
    kind: "session",
    branchId: branch.id,
    sourceUri: await svc.secrets.open(project.sourceUriEncrypted),
    physicalDatabase: db.physicalName,
    ownerRole: branch.roleName!,
  };
}

async function loadTarget(db: Db, branchId: string): Promise<EndpointTarget | null> {
  const [row] = await db.select().from(branches).where(eq(branches.id, branchId));
  if (!row) return null;
  return findEndpoint(db, { endpointId: row.endpointId });
}
