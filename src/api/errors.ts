// The one error envelope (Neon's GeneralError: {code, message, request_id}) and
// the one mapping from domain errors to HTTP statuses.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { DomainError, RateLimited, isConnectionFailure, type DomainErrorKind } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { AppEnv } from "./env.ts";

const statusOf: Record<DomainErrorKind, ContentfulStatusCode> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  invalid: 422,
  conflict: 409,
  locked: 423,
  not_ready: 409,
  unavailable: 503,
  rate_limited: 429,
};

/** The HTTP status of a domain error: the one mapping, shared with the console. */
export const httpStatusOf = (error: DomainError): ContentfulStatusCode => statusOf[error.kind];

/** What a client is told to wait after a 503: a PostgreSQL restart takes seconds. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

export function errorBody(c: Context<AppEnv>, code: string, message: string) {
  return { code, message, request_id: c.get("requestId") };
}

/** "masking_rules[0].column_name: expected string" — every issue, naming its field. */
export function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.reduce<string>(
        (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
        "",
      );
      return `${path || "body"}: ${issue.message}`;
    })
    .join("; ");
}

export function validationError(c: Context<AppEnv>, error: ZodError) {
  return c.json(errorBody(c, "INVALID_REQUEST", describeZodError(error)), 400);
}

export function handleError(log: Logger) {
  return (error: Error, c: Context<AppEnv>) => {
    if (error instanceof DomainError) {
      if (error instanceof RateLimited) c.header("Retry-After", String(error.retryAfterSeconds));
      if (error.kind === "unavailable") c.header("Retry-After", String(UNAVAILABLE_RETRY_AFTER_SECONDS));
      return c.json(errorBody(c, error.code, error.message), statusOf[error.kind]);
    }
    // A server we depend on is down or restarting: the caller should retry, not
    // report a bug. Which server it was is for the logs and /readyz.
    if (isConnectionFailure(error)) {
      log.warn("request failed: a database server is unreachable", { request_id: c.get("requestId"), error });
      c.header("Retry-After", String(UNAVAILABLE_RETRY_AFTER_SECONDS));
      return c.json(
        errorBody(c, "UNAVAILABLE", `a database server this request needs is unreachable or restarting; retry in ${UNAVAILABLE_RETRY_AFTER_SECONDS} s (GET /readyz says which)`),
        503,
      );
    }
    if (error instanceof HTTPException) {
      const message = error.status === 400 ? `body: ${error.message}` : error.message;
      return c.json(errorBody(c, "INVALID_REQUEST", message), error.status);
    }
    log.error("unhandled error", { request_id: c.get("requestId"), error });
    return c.json(errorBody(c, "INTERNAL_ERROR", "internal error"), 500);
  };
}
