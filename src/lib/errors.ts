// Domain errors: they say what went wrong in the product's terms and know
// nothing about HTTP; src/api/errors.ts maps each kind to a status once.

export type DomainErrorKind =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "invalid"
  | "conflict"
  | "locked"
  | "not_ready"
  | "unavailable"
  | "rate_limited";

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const notFound = (what: string): DomainError => new DomainError("not_found", "NOT_FOUND", `${what} not found`);

export const invalid = (message: string, code = "INVALID_REQUEST"): DomainError =>
  new DomainError("invalid", code, message);

export const locked = (message: string): DomainError => new DomainError("locked", "LOCKED", message);

export const conflict = (message: string, code = "CONFLICT"): DomainError =>
  new DomainError("conflict", code, message);

/** No usable credentials: missing, malformed, expired or revoked. Never echoes the token. */
export const unauthorized = (message: string): DomainError => new DomainError("unauthorized", "UNAUTHORIZED", message);

/** Authenticated, but this principal may not do this. */
export const forbidden = (message: string): DomainError => new DomainError("forbidden", "FORBIDDEN", message);

/** A server this request or job needs is unreachable or restarting: try again shortly. */
export const unavailable = (message: string, code = "UNAVAILABLE"): DomainError => new DomainError("unavailable", code, message);

/** Too many requests for this principal; `retryAfterSeconds` says when the next one is admitted. */
export class RateLimited extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super("rate_limited", "RATE_LIMITED", message);
  }
}

// Connection-class failures, whichever driver raised them: the server is down,
// restarting, refusing connections, or dropped ours. Anything else (a broken
// constraint, a missing object) is not about reachability.
const connectionSqlStates = new Set([
  "57P01", // admin_shutdown: the server is stopping (pg_ctl stop -m fast)
  "57P02", // crash_shutdown: another backend crashed (-m immediate)
  "57P03", // cannot_connect_now: starting up or shutting down
  "53300", // too_many_connections
]);
const connectionClientCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);
// node-postgres (pg-boss) reports a dropped connection by message only.
const connectionMessages = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect)/;

/**
 * The error and the errors in its `cause` chain (drizzle wraps driver errors), at most 8 deep. Plain
 * objects too: pg-boss re-emits errors as copies, not Error instances.
 */
function* causeChain(error: unknown): Generator<object> {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === "object" && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    yield e;
  }
}

/** The SQLSTATE of a PostgreSQL error, looked up the `cause` chain. */
export function sqlState(error: unknown): string | undefined {
  for (const e of causeChain(error)) {
    const { code } = e as { code?: unknown };
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** True when the error is a unique violation of this constraint (or index). */
export function violates(error: unknown, constraint: string): boolean {
  for (const e of causeChain(error)) {
    const { code, constraint_name } = e as { code?: unknown; constraint_name?: unknown };
    if (code === "23505") return constraint_name === constraint;
  }
  return false;
}

/**
 * True when the error (or any error in its `cause` chain, as drizzle wraps
 * driver errors) says a database server could not be reached or went away.
 */
export function isConnectionFailure(error: unknown): boolean {
  for (const e of causeChain(error)) {
    if (e instanceof DomainError) return e.kind === "unavailable";
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === "string" && (connectionClientCodes.has(code) || connectionSqlStates.has(code) || code.startsWith("08"))) {
      return true;
    }
    if (typeof message === "string" && connectionMessages.test(message)) return true;
  }
  return false;
}
