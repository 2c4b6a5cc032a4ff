// Login windows: how anonbranch logs in as a branch's roles while nobody else
// can, on a server whose pg_hba.conf we do not control.
//
// A PostgreSQL role can always change its own password (ALTER ROLE
// CURRENT_USER PASSWORD …), so a role whose sessions run a branch user's SQL
// cannot keep a secret password: the user could set one and log in to the
// server directly, to any database whose CONNECT is PUBLIC's. A NOLOGIN role
// cannot log in whatever its password, and a role cannot change its own LOGIN
// or VALID UNTIL. So branch roles stay NOLOGIN, and to log in anonbranch opens
// a window on one role:
//
//   lock(role); check the role has no session;
//   ALTER ROLE r LOGIN PASSWORD '<verifier of a fresh random password>' VALID UNTIL now()+60s
//   log in with that password;
//   ALTER ROLE r NOLOGIN VALID UNTIL '-infinity'; unlock
//
// and no SQL of a user runs in the new session before the window is closed.
// Because the role has no session while the window is open, no branch user is
// inside it to change the password meanwhile; the lock (advisory, in the
// maintenance database) keeps windows on one role one at a time across
// processes. The password is still checked unchanged at close: if it is not,
// every other session of the role is terminated and LoginTampered is raised.
// VALID UNTIL bounds a window that a crash leaves open.
import { randomBytes } from "node:crypto";
import type postgres from "postgres";
import { scramVerifier } from "../lib/secrets.ts";
import { quoteIdent, quoteLiteral } from "../lib/sql-quote.ts";

const WINDOW_LOCK = 0x6c6f676e; // "logn"
/**
 * The fresh password is 256 random bits, so its SCRAM verifier needs no key
 * stretching: one iteration spares both sides ~2 ms of PBKDF2 per login.
 */
const EPHEMERAL_ITERATIONS = 1;

export type ReservedSql = postgres.ReservedSql;

export interface Credentials {
  user: string;
  password: string;
}

/** What a login returns: the value for the caller and the backend pids of its sessions. */
export interface LoggedIn<T> {
  value: T;
  pids: number[];
}

export class LoginTampered extends Error {}

/** Someone (another window, or a session) holds the role. */
export class RoleBusy extends Error {}

async function sessionsOf(conn: ReservedSql, role: string): Promise<number> {
  const [row] = await conn`SELECT count(*)::int AS n FROM pg_catalog.pg_stat_activity WHERE usename = ${role}`;
  return (row?.n as number | undefined) ?? 0;
}

async function terminateSessions(conn: ReservedSql, role: string, except: number[]): Promise<number> {
  const rows = await conn`
    SELECT pg_catalog.pg_terminate_backend(pid) AS done FROM pg_catalog.pg_stat_activity
    WHERE usename = ${role} AND pid <> ALL(${except}::int[]) AND pid <> pg_catalog.pg_backend_pid()`;
  return rows.length;
}

/**
 * Opens a window on `role` (the caller holds its lock and has checked it has
 * no session), runs `login` with a fresh password, and closes the window
 * before returning. A password changed meanwhile raises LoginTampered.
 */
async function throughWindow<T>(
  conn: ReservedSql,
  role: string,
  login: (credentials: Credentials) => Promise<LoggedIn<T>>,
): Promise<T> {
  const password = randomBytes(32).toString("base64url");
  const verifier = scramVerifier(password, EPHEMERAL_ITERATIONS);
  const r = quoteIdent(role);
  const [{ until }] = (await conn`SELECT (pg_catalog.now() + interval '60 seconds')::text AS until`) as unknown as [{ until: string }];
  await conn.unsafe(`ALTER ROLE ${r} LOGIN PASSWORD ${quoteLiteral(verifier)} VALID UNTIL ${quoteLiteral(until)}`);
  let result: LoggedIn<T> | undefined;
  let failure: unknown;
  try {
    result = await login({ user: role, password });
  } catch (error) {
    failure = error;
  }
  await conn.unsafe(`ALTER ROLE ${r} NOLOGIN VALID UNTIL '-infinity'`);
  const [check] = await conn`SELECT rolpassword = ${verifier} AS intact FROM pg_catalog.pg_authid WHERE rolname = ${role}`;
  if (!check?.intact) {
    const killed = await terminateSessions(conn, role, result?.pids ?? []);
    throw new LoginTampered(
      `the password of role ${role} was changed while anonbranch was logging in; ${killed} other session(s) of the role were terminated`,
    );
  }
  if (failure !== undefined) throw failure;
  return result!.value;
}

/**
 * Logs in as a role that only anonbranch uses one session of at a time (the
 * masker): waits for other windows on it, ends any session of it that
 * survived a crashed worker, then logs in through a window.
 */
export async function loginAlone<T>(
  maintenance: postgres.Sql,
  role: string,
  login: (credentials: Credentials) => Promise<LoggedIn<T>>,
): Promise<T> {
  const conn = await maintenance.reserve();
  try {
    await conn`SELECT pg_catalog.pg_advisory_lock(${WINDOW_LOCK}, pg_catalog.hashtext(${role}))`;
    try {
      await terminateSessions(conn, role, []);
      return await throughWindow(conn, role, login);
    } finally {
      await conn`SELECT pg_catalog.pg_advisory_unlock(${WINDOW_LOCK}, pg_catalog.hashtext(${role}))`;
    }
  } finally {
    conn.release();
  }
}

export interface GatewayPool {
  /** The branch role the gateways are members of. */
  owner: string;
  /** Name prefix of the gateway roles (src/dataplane/names.ts). */
  prefix: string;
  /** The gateway role number n's name. */
  nameOf(n: number): string;
  /** At most this many gateways, hence concurrent sessions, per branch. */
  max: number;
}

/**
 * Logs in as one of a branch's gateway roles that has no session, creating
 * one when all are busy (up to `pool.max`). One role per concurrent session,
 * because a session's user can change its own role's password: a role in use
 * by a branch user never gets a window opened on it.
 */
export async function loginAsGateway<T>(
  maintenance: postgres.Sql,
  pool: GatewayPool,
  login: (credentials: Credentials) => Promise<LoggedIn<T>>,
): Promise<T> {
  const conn = await maintenance.reserve();
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      // Idle gateways first (no session, not being logged in to), in random order to spread instances.
      const idle = await conn`
        SELECT r.rolname FROM pg_catalog.pg_roles r
        WHERE pg_catalog.starts_with(r.rolname, ${pool.prefix}) AND NOT r.rolcanlogin
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.usename = r.rolname)
        ORDER BY pg_catalog.random() LIMIT 4`;
      for (const { rolname } of idle as unknown as { rolname: string }[]) {
        const taken = await tryTake(conn, rolname);
        if (taken) return await release(conn, rolname, () => throughWindow(conn, rolname, login));
      }
      const [{ n }] = (await conn`
        SELECT count(*)::int AS n FROM pg_catalog.pg_roles WHERE pg_catalog.starts_with(rolname, ${pool.prefix})`) as unknown as [{ n: number }];
      if (n >= pool.max) break;
      const name = pool.nameOf(n);
      if (!(await tryTake(conn, name, true))) continue;
      return await release(conn, name, async () => {
        try {
          await conn.unsafe(
            `CREATE ROLE ${quoteIdent(name)} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT IN ROLE ${quoteIdent(pool.owner)}`,
          );
        } catch (error) {
          if ((error as { code?: string }).code !== "42710") throw error; // made meanwhile by another process
        }
        return throughWindow(conn, name, login);
      });
    }
    throw new RoleBusy(`all ${pool.max} sessions of this branch are in use`);
  } finally {
    conn.release();
  }
}

/** Locks a gateway role if free; rechecks under the lock that it has no session. */
async function tryTake(conn: ReservedSql, role: string, creating = false): Promise<boolean> {
  const [row] = await conn`SELECT pg_catalog.pg_try_advisory_lock(${WINDOW_LOCK}, pg_catalog.hashtext(${role})) AS locked`;
  if (!row?.locked) return false;
  const free = (await sessionsOf(conn, role)) === 0;
  const exists = (await conn`SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${role}`).length > 0;
  if (free && exists !== creating) return true;
  await conn`SELECT pg_catalog.pg_advisory_unlock(${WINDOW_LOCK}, pg_catalog.hashtext(${role}))`;
  return false;
}

async function release<T>(conn: ReservedSql, role: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await conn`SELECT pg_catalog.pg_advisory_unlock(${WINDOW_LOCK}, pg_catalog.hashtext(${role}))`;
  }
}

/**
 * Closes windows a crash left open: a branch role that can log in while no
 * window is open on it (its lock is free) is made NOLOGIN again.
 */
export async function closeStrayWindows(maintenance: postgres.Sql, prefixes: string[]): Promise<string[]> {
  if (prefixes.length === 0) return [];
  const conn = await maintenance.reserve();
  const closed: string[] = [];
  try {
    const open = await conn`
      SELECT rolname FROM pg_catalog.pg_roles
      WHERE rolcanlogin AND EXISTS (SELECT 1 FROM pg_catalog.unnest(${prefixes}::text[]) p WHERE pg_catalog.starts_with(rolname, p))`;
    for (const { rolname } of open as unknown as { rolname: string }[]) {
      const [row] = await conn`SELECT pg_catalog.pg_try_advisory_lock(${WINDOW_LOCK}, pg_catalog.hashtext(${rolname})) AS locked`;
      if (!row?.locked) continue;
      try {
        await conn.unsafe(`ALTER ROLE ${quoteIdent(rolname)} NOLOGIN VALID UNTIL '-infinity'`);
        closed.push(rolname);
      } finally {
        await conn`SELECT pg_catalog.pg_advisory_unlock(${WINDOW_LOCK}, pg_catalog.hashtext(${rolname}))`;
      }
    }
  } finally {
    conn.release();
  }
  return closed;
}

/**
 * Ends the branch users' sessions (gateway roles) on the branch's databases:
 * a run rewrites their tables, and the branch is closed to them until it is
 * anonymized again.
 */
export async function endUserSessions(admin: postgres.Sql, roles: { gatewayPrefix: string }, databases: string[]): Promise<number> {
  const rows = await admin`
    SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
    WHERE datname = ANY(${databases}) AND pg_catalog.starts_with(usename, ${roles.gatewayPrefix})`;
  return rows.length;
}
