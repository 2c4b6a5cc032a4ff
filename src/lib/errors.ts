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
  | "unavailable";

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
