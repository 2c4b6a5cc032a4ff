// The endpoint proxy for anonymized branches: the protocol engine (server.ts)
// wired to control/, which decides who may connect where.
//
// How a connection finds its branch: every port of ANONBRANCH_ENDPOINT_PORTS
// is listened on at once (one per endpoint; a port without a live endpoint
// answers with an error), and the shared ANONBRANCH_ENDPOINT_PORT routes by
// TLS SNI (ep-….<ANONBRANCH_ENDPOINT_DOMAIN>, `-pooler` accepted) or by Neon's
// options=endpoint=ep-…. Nothing is kept here but caches: any number of
// proxies can serve the same metadata database.
//
// Per client: the logical role's password is checked (SCRAM) before the
// branch's state is even looked at; then the branch must be anonymized; then
// the proxy logs in to the branch database as one of the branch's gateway
// roles through a login window (src/dataplane/login.ts), acting as the
// branch's owner role, and relays bytes.
import { createHash, randomBytes } from "node:crypto";
import type postgres from "postgres";
import type { Services } from "../control/context.ts";
import { openBranchSession, routeEndpoint, type BranchSession } from "../control/endpoint-sessions.ts";
import { connectDataPlane } from "../dataplane/connection.ts";
import { loginAsGateway, LoginTampered, RoleBusy } from "../dataplane/login.ts";
import { gatewayRoleName, gatewayRolePrefix } from "../dataplane/names.ts";
import {
  createEndpointServer,
  refuse,
  scramVerifierFor,
  type BackendTarget,
  type EndpointLimits,
  type EndpointServer,
  type Refusal,
  type Route,
  type ScramVerifier,
  type StartupInfo,
} from "./index.ts";

export interface BranchEndpointsOptions {
  listenHost: string;
  /** Every port of the range is listened on. */
  ports: { first: number; last: number };
  /** Shared port routed by SNI / options=endpoint=…; 0 = none. */
  sharedPort: number;
  domain?: string;
  tls: { cert: string | Buffer; key: string | Buffer } | null;
  limits: EndpointLimits;
  /** Concurrent sessions per branch (gateway roles). */
  sessionsPerBranch: number;
}

export interface BranchEndpoints {
  server: EndpointServer;
  /** The shared port actually listened on (when sharedPort was 0 in tests: none). */
  close(): Promise<void>;
}

const VERIFIER_CACHE = 10_000;

export async function startBranchEndpoints(svc: Services, options: BranchEndpointsOptions): Promise<BranchEndpoints> {
  const verifiers = new Map<string, { digest: string; verifier: ScramVerifier }>();
  // A verifier nobody knows the password of: unknown role names fail exactly like wrong passwords.
  const decoy = scramVerifierFor(randomBytes(32).toString("base64url"));
  const pools = new Map<string, postgres.Sql>();

  const verifierFor = (branchId: string, password: string): ScramVerifier => {
    const digest = createHash("sha256").update(password).digest("hex");
    const hit = verifiers.get(branchId);
    if (hit?.digest === digest) return hit.verifier;
    if (verifiers.size >= VERIFIER_CACHE) verifiers.delete(verifiers.keys().next().value!);
    const verifier = scramVerifierFor(password);
    verifiers.set(branchId, { digest, verifier });
    return verifier;
  };

  /** One small admin pool per data-plane server, for login windows. */
  const maintenance = (sourceUri: string): postgres.Sql => {
    let pool = pools.get(sourceUri);
    if (!pool) {
      pool = connectDataPlane(sourceUri, null, { max: 4 });
      pools.set(sourceUri, pool);
    }
    return pool;
  };

  const endpointIdOf = (info: StartupInfo): string | undefined => {
    const fromOptions = info.options.get("endpoint");
    if (fromOptions) return fromOptions.replace(/-pooler$/, "");
    const domain = options.domain?.toLowerCase();
    const name = info.serverName?.toLowerCase();
    if (domain && name?.endsWith(`.${domain}`)) return name.slice(0, -domain.length - 1).replace(/-pooler$/, "");
    return undefined;
  };

  const lookup = async (info: StartupInfo): Promise<Refusal | Route> => {
    const shared = options.sharedPort !== 0 && info.localPort === options.sharedPort;
    const where = shared ? { endpointId: endpointIdOf(info) } : { port: info.localPort };
    const route = await routeEndpoint(svc, { ...where, user: info.user, database: info.database });
    if (route.kind === "refuse") return refuse(route.sqlstate, route.message);
    return {
      verifier: route.password === null ? decoy : verifierFor(route.branchId, route.password),
      open: async () => {
        const session = await openBranchSession(svc, route.branchId, info.database);
        if (session.kind === "refuse") return refuse(session.sqlstate, session.message, session.detail);
        return backendTarget(session);
      },
    };
  };

  const backendTarget = (session: BranchSession): BackendTarget => {
    const url = new URL(session.sourceUri);
    const socketDir = url.searchParams.get("host");
    const sslmode = url.searchParams.get("sslmode") ?? "prefer";
    const target: BackendTarget = {
      host: socketDir?.startsWith("/") ? socketDir : decodeURIComponent(url.hostname),
      port: Number(url.port || 5432),
      ssl: sslmode === "disable" ? "disable" : sslmode === "prefer" || sslmode === "allow" ? "prefer" : "require",
      user: "",
      password: "",
      database: session.physicalDatabase,
      // Objects a client creates belong to the branch's owner, like everything else there.
      params: { role: session.ownerRole },
      login: async (authenticate) => {
        try {
          return await loginAsGateway(
            maintenance(session.sourceUri),
            {
              owner: session.ownerRole,
              prefix: gatewayRolePrefix(session.branchId),
              nameOf: (n) => gatewayRoleName(session.branchId, n),
              max: options.sessionsPerBranch,
            },
            async (credentials) => {
              target.user = credentials.user;
              target.password = credentials.password;
              const backend = await authenticate();
              return { value: backend, pids: [backend.pid] };
            },
          );
        } catch (error) {
          if (error instanceof RoleBusy) {
            throw loginRefusal(refuse("53300", `too many connections for branch ${session.branchId} (at most ${options.sessionsPerBranch})`));
          }
          if (error instanceof LoginTampered) {
            svc.log.warn("endpoint: a branch role's password changed during a login; its other sessions were ended", { branch_id: session.branchId });
          }
          throw error;
        }
      },
    };
    return target;
  };

  const server = createEndpointServer({ tls: options.tls, lookup, limits: options.limits, log: svc.log });
  try {
    for (let port = options.ports.first; port <= options.ports.last; port++) await server.listen(port, options.listenHost);
    if (options.sharedPort !== 0) await server.listen(options.sharedPort, options.listenHost);
  } catch (error) {
    await server.close();
    throw new Error(`the endpoint proxy cannot listen on ${options.listenHost}: ${(error as Error).message}`, { cause: error });
  }
  svc.log.info("endpoint proxy listening", {
    host: options.listenHost,
    ports: `${options.ports.first}-${options.ports.last}`,
    shared_port: options.sharedPort || undefined,
    tls: options.tls !== null,
  });

  return {
    server,
    async close() {
      await server.close();
      for (const pool of pools.values()) await pool.end({ timeout: 5 });
      pools.clear();
    },
  };
}

/** An error the engine turns into this refusal for the client. */
function loginRefusal(refusal: Refusal): Error & { refusal: Refusal } {
  return Object.assign(new Error(refusal.message), { refusal });
}
