// Console sessions. The cookie holds the bearer token itself (an API key or
// the admin token) and every request judges it exactly as the API judges an
// Authorization header (src/api/auth.ts), so revoking or expiring a key ends
// its console sessions too and the API's roles apply unchanged.
//
// Cross-site requests are refused three ways: the cookie is SameSite=Strict;
// every unsafe request must come from this origin (Origin, else Referer);
// and it must carry the session's CSRF token, an HMAC of the session token
// (so it needs no server-side state and is useless without the cookie).
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { DomainError, forbidden, unauthorized } from "../lib/errors.ts";
import type { ConsoleEnv } from "./env.ts";

export const SESSION_COOKIE = "anonbranch_session";
/** Double-submit token of the sign-in form, before there is a session to bind one to. */
export const SIGN_IN_COOKIE = "anonbranch_sign_in";
export const CSRF_FIELD = "_csrf";
export const CSRF_HEADER = "x-csrf-token";
const SESSION_SECONDS = 12 * 60 * 60;

export type PrincipalResolver = (token: string) => Promise<ConsoleEnv["Variables"]["principal"]>;

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}

function cookieOptions(c: Context, maxAge: number) {
  return { path: "/console", httpOnly: true, sameSite: "Strict" as const, secure: isHttps(c), maxAge };
}

export function startSession(c: Context, token: string): void {
  setCookie(c, SESSION_COOKIE, token, cookieOptions(c, SESSION_SECONDS));
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, cookieOptions(c, 0));
}

export function csrfTokenFor(sessionToken: string): string {
  return createHmac("sha256", sessionToken).update("anonbranch console csrf v1").digest("base64url");
}

export function newSignInToken(c: Context): string {
  const value = randomBytes(18).toString("base64url");
  setCookie(c, SIGN_IN_COOKIE, value, cookieOptions(c, 30 * 60));
  return value;
}

export function signInTokenMatches(c: Context, submitted: string): boolean {
  const expected = getCookie(c, SIGN_IN_COOKIE);
  return expected !== undefined && sameSecret(expected, submitted);
}

export function clearSignInToken(c: Context): void {
  deleteCookie(c, SIGN_IN_COOKIE, cookieOptions(c, 0));
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

/**
 * Unsafe requests must name this host as their origin (a browser always sends
 * Origin on POST). Behind a proxy that rewrites Host, X-Forwarded-Host names
 * the public host; a cross-site page cannot set that header on a form post.
 */
export function assertSameOrigin(c: Context): void {
  const hosts = [c.req.header("host"), c.req.header("x-forwarded-host")].filter((h): h is string => Boolean(h));
  const from = c.req.header("origin") ?? c.req.header("referer");
  let fromHost: string | null = null;
  try {
    fromHost = from ? new URL(from).host : null;
  } catch {
    fromHost = null; // "null" origins (sandboxed frames, file://) are not ours
  }
  if (fromHost === null || !hosts.includes(fromHost)) throw forbidden("cross-origin request refused: forms of the console can only be sent from the console");
}

/** The CSRF token a form field or the X-CSRF-Token header carries. */
async function submittedCsrf(c: Context): Promise<string> {
  const header = c.req.header(CSRF_HEADER);
  if (header) return header;
  const type = c.req.header("content-type") ?? "";
  if (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")) {
    const value = (await c.req.parseBody())[CSRF_FIELD];
    return typeof value === "string" ? value : "";
  }
  return "";
}

/** A console path to go back to after signing in, or null: never another site (no open redirect). */
export function safeNext(next: string | undefined): string | null {
  return next && /^\/console\/[\w\-./?=&%]*$/.test(next) && !next.includes("//") && !next.includes("/..") && !next.startsWith("/console/sign-") ? next : null;
}

/** Where to send someone who must sign in. */
export function signInLocation(next: string | undefined, reason?: "expired" | "signed-out" | "required"): string {
  const params = new URLSearchParams();
  const back = safeNext(next);
  if (back) params.set("next", back);
  if (reason) params.set("reason", reason);
  const query = params.toString();
  return `/console/sign-in${query ? `?${query}` : ""}`;
}

/**
 * Resolves the session's principal (or sends the browser to sign in), then
 * checks origin and CSRF token on every unsafe request.
 */
export function requireSession(principalFor: PrincipalResolver): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const token = getCookie(c, SESSION_COOKIE);
    const safe = SAFE_METHODS.has(c.req.method);
    // Pages send the browser to sign in; the client script's JSON calls get a 401 it can act on.
    const redirect = safe && !(c.req.header("accept") ?? "").includes("application/json");
    const here = new URL(c.req.url);
    if (!token) {
      if (redirect) return c.redirect(signInLocation(here.pathname + here.search, "required"), 303);
      throw unauthorized("sign in first: this console session has no token");
    }
    let principal;
    try {
      principal = await principalFor(token);
    } catch (error) {
      if (!(error instanceof DomainError) || error.kind !== "unauthorized") throw error;
      endSession(c);
      if (redirect) return c.redirect(signInLocation(here.pathname + here.search, "expired"), 303);
      throw unauthorized("this console session is no longer valid (its key was revoked or has expired): sign in again");
    }
    const csrf = csrfTokenFor(token);
    c.set("principal", { ...principal, requestId: c.get("requestId") });
    c.set("csrf", csrf);
    if (!safe) {
      assertSameOrigin(c);
      if (!sameSecret(csrf, await submittedCsrf(c))) {
        throw forbidden("the form's CSRF token is missing or does not belong to this session: reload the page and try again");
      }
    }
    await next();
  };
}
