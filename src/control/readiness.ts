// Readiness: which of the servers the service depends on answer right now.
// /healthz stays a liveness check (the process answers); /readyz asks the
// metadata database and every registered data-plane server, so an operator
// sees at once what is down. Results are cached briefly so a load balancer
// polling /readyz never becomes load on production servers.
import { sql } from "drizzle-orm";
import { isNull } from "drizzle-orm";
import { projects } from "../db/schema.ts";
import { pingServer } from "../dataplane/server-health.ts";
import type { Services } from "./context.ts";

export interface Readiness {
  /** ready: all up; degraded: the API works but some data-plane server is down; unavailable: metadata down. */
  status: "ready" | "degraded" | "unavailable";
  metadata: "up" | "down";
  /** One entry per data-plane server (host:port, never credentials) with the projects on it. */
  data_planes: { server: string; status: "up" | "down"; projects: string[] }[];
}

const CACHE_MS = 5_000;
const TIMEOUT_MS = 3_000;

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error("timed out")), ms))]);

export function readinessChecker(svc: Services): () => Promise<Readiness> {
  let cached: { at: number; value: Promise<Readiness> } | null = null;
  return () => {
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.value;
    const value = check(svc);
    cached = { at: Date.now(), value };
    return value;
  };
}

async function check(svc: Services): Promise<Readiness> {
  let rows: { id: string; host: string; port: number; sourceUriEncrypted: string }[];
  try {
    await withTimeout(svc.db.execute(sql`SELECT 1`), TIMEOUT_MS);
    rows = await withTimeout(
      svc.db
        .select({ id: projects.id, host: projects.host, port: projects.port, sourceUriEncrypted: projects.sourceUriEncrypted })
        .from(projects)
        .where(isNull(projects.deletedAt)),
      TIMEOUT_MS,
    );
  } catch {
    return { status: "unavailable", metadata: "down", data_planes: [] };
  }
  const servers = new Map<string, { uri: string; projects: string[] }>();
  for (const p of rows) {
    const key = `${p.host}:${p.port}`;
    const entry = servers.get(key);
    if (entry) entry.projects.push(p.id);
    else servers.set(key, { uri: p.sourceUriEncrypted, projects: [p.id] });
  }
  const dataPlanes = await Promise.all(
    [...servers].map(async ([server, { uri, projects: ids }]) => {
      const up = await svc.secrets.open(uri).then((u) => pingServer(u, TIMEOUT_MS / 1000), () => false);
      return { server, status: up ? ("up" as const) : ("down" as const), projects: ids };
    }),
  );
  const degraded = dataPlanes.some((d) => d.status === "down");
  return { status: degraded ? "degraded" : "ready", metadata: "up", data_planes: dataPlanes };
}
