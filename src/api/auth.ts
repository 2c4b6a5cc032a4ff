// Bearer authentication → the request's principal. Three kinds of bearer token:
//  - the static admin token (ANONBRANCH_ADMIN_TOKEN);
//  - our API keys: HS256 JWTs with iss "anonbranch", valid while their
//    api_keys row exists and is not revoked (checked on every request);
//  - GitHub Actions OIDC tokens: verified against the issuer's JWKS, then
//    admitted by the projects' trust policies (src/control/trust-policies.ts).
// Failures are DomainErrors (401 unauthorized / 403 forbidden / 503 when the
// JWKS cannot be fetched), mapped once by src/api/errors.ts. No message or log
// line ever contains the token.
import { timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler, Next } from "hono";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import { z } from "zod";
import { API_KEY_ISSUER, apiKeySecret, findApiKey, markApiKeyUsed, usedRecently, type ApiKeyRow } from "../control/api-keys.ts";
import type { Principal, PrincipalRole, Services } from "../control/context.ts";
import { readThrough } from "../control/read-cache.ts";
import { matchTrustPolicies } from "../control/trust-policies.ts";
import { BoundedMap } from "../lib/bounded-map.ts";
import { DomainError, forbidden, unauthorized } from "../lib/errors.ts";
import type { AppEnv } from "./env.ts";

export interface AuthConfig {
  adminToken: string;
}

const adminPrincipal: Principal = { id: "admin", name: "admin", role: "admin", projects: "*" };

/**
 * Token → principal, exactly as a bearer token is judged. The console uses it
 * for the token kept in its session cookie, so the API's roles apply unchanged.
 */
export function tokenAuthenticator(config: AuthConfig, svc: Services): (token: string) => Promise<Principal> {
  const expected = Buffer.from(config.adminToken);
  // A token of another length is not the admin token (that says its length, no more); one of the
  // same length is compared in constant time.
  const isAdminToken = (token: string): boolean => {
    if (token.length !== config.adminToken.length) return false;
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  return async (token) => (isAdminToken(token) ? adminPrincipal : principalOf(svc, token));
}

export function authenticate(config: AuthConfig, svc: Services): MiddlewareHandler<AppEnv> {
  const principalFor = tokenAuthenticator(config, svc);
  // Not async: a key answered from memory goes on to the route without a promise of its own.
  return (c, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    if (!match) throw unauthorized("missing bearer token: send Authorization: Bearer <key>");
    const known = knownApiKeyPrincipal(svc, match[1]!);
    return known ? enter(c, next, known) : principalFor(match[1]!).then((principal) => enter(c, next, principal));
  };
}

function enter(c: Context<AppEnv>, next: Next, principal: Principal): Promise<void> {
  c.set("principal", { ...principal, requestId: c.get("requestId") });
  return next();
}

/** Sorts a bearer JWT to the verifier it claims to need; each verifier trusts nothing from this peek. */
async function principalOf(svc: Services, token: string): Promise<Principal> {
  // A key verified before needs no second look at its header (the hot path of every API key).
  if (verifiedUnder(svc, token)) return apiKeyPrincipal(svc, token);
  let alg: string | undefined;
  let iss: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
    iss = decodeJwt(token).iss;
  } catch {
    throw unauthorized("the bearer token is not valid: it is neither the admin token nor a signed JWT");
  }
  if (iss === API_KEY_ISSUER) return apiKeyPrincipal(svc, token);
  // Anything symmetric that is not ours would be verified against nothing we hold.
  if (!alg || alg === "none" || alg.startsWith("HS")) {
    throw unauthorized("the bearer token is not valid: not an anonbranch API key nor an OIDC token");
  }
  return oidcPrincipal(svc, token);
}

// ---- API keys -----------------------------------------------------------------

const ApiKeyClaims = z.object({ sub: z.uuid(), jti: z.uuid() });

interface VerifiedKey {
  /** The signing secret it verified under: the same token under another secret is another question. */
  secret: string | undefined;
  keyId: string;
  exp: number | undefined;
  /** The principal last made for it, with the key's row as the read cache held it then. */
  answered?: { row: ApiKeyRow; principal: Principal };
}

/**
 * Tokens whose signature and claims verified: a signature cannot stop
 * verifying, so only the expiry is checked again (and the key's row, on every
 * request). Bounded; per process.
 */
const verifiedKeys = new BoundedMap<string, VerifiedKey>(10_000);

const verifiedUnder = (svc: Services, token: string): VerifiedKey | undefined => {
  const known = verifiedKeys.get(token);
  return known?.secret === svc.config.ANONBRANCH_JWT_SECRET ? known : undefined;
};

/**
 * The hot path of every API key, without a promise: the principal made for
 * this token before, while the read cache still holds the very row it was made
 * from (a revocation, or any change to the key, replaces or drops that row),
 * the key has not expired, and its use was recorded less than a minute ago.
 * Anything else takes the full path.
 */
function knownApiKeyPrincipal(svc: Services, token: string): Principal | undefined {
  const known = verifiedUnder(svc, token);
  if (!known?.answered || !svc.cache) return undefined;
  const now = Date.now();
  if (expired(known, now)) return undefined;
  const { row, principal } = known.answered;
  if (svc.cache.peek(apiKeyCacheKey(known.keyId)) !== row || !usedRecently(row, now)) return undefined;
  return principal;
}

const expired = (key: VerifiedKey, now: number): boolean => key.exp !== undefined && key.exp * 1000 <= now;

const apiKeyCacheKey = (keyId: string): string => `api_key:${keyId}`;

async function verifyApiKey(svc: Services, token: string): Promise<VerifiedKey> {
  const known = verifiedUnder(svc, token);
  if (known) {
    if (expired(known, Date.now())) throw unauthorized("the API key has expired");
    return known;
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, apiKeySecret(svc.config), { issuer: API_KEY_ISSUER, algorithms: ["HS256"] }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw unauthorized("the API key has expired");
    throw unauthorized("the API key is not valid: its signature or claims do not verify");
  }
  const claims = ApiKeyClaims.safeParse(payload);
  if (!claims.success || claims.data.sub !== claims.data.jti) throw unauthorized("the API key is not valid: malformed claims");
  const verified: VerifiedKey = { secret: svc.config.ANONBRANCH_JWT_SECRET, keyId: claims.data.sub, exp: payload.exp };
  verifiedKeys.set(token, verified);
  return verified;
}

async function apiKeyPrincipal(svc: Services, token: string): Promise<Principal> {
  if (!svc.config.ANONBRANCH_JWT_SECRET) throw unauthorized("API keys are not configured on this server (ANONBRANCH_JWT_SECRET)");
  const verified = await verifyApiKey(svc, token);
  const { keyId } = verified;
  const row = await readThrough(svc.cache, apiKeyCacheKey(keyId), () => findApiKey(svc.db, keyId));
  if (!row) throw unauthorized("the API key is not known to this server");
  if (row.revokedAt) throw unauthorized(`the API key "${row.name}" was revoked at ${row.revokedAt.toISOString()}`);
  if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) throw unauthorized("the API key has expired");
  await markApiKeyUsed(svc.db, row);
  // The row, not the claims, is authoritative for role and scope.
  const principal: Principal = { id: row.id, name: row.name, role: row.role, projects: row.role === "admin" ? "*" : (row.projectIds ?? []) };
  verified.answered = { row, principal };
  return principal;
}

// ---- GitHub Actions OIDC --------------------------------------------------------

const asymmetric = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/** One remote key set per URL for the process: jose caches the keys inside it (and refetches on an unknown kid). */
const jwksByUrl = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function jwksFor(url: string): ReturnType<typeof createRemoteJWKSet> {
  let set = jwksByUrl.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url));
    jwksByUrl.set(url, set);
  }
  return set;
}

// GitHub sends ids as strings; accept numbers too, compared as text.
const idClaim = z.union([z.string(), z.number()]).transform(String).optional();

const OidcClaims = z.object({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  repository: z.string().min(1),
  ref: z.string().optional(),
  repository_id: idClaim,
  repository_owner_id: idClaim,
  environment: z.string().optional(),
  job_workflow_ref: z.string().optional(),
});

async function oidcPrincipal(svc: Services, token: string): Promise<Principal> {
  const url = svc.config.ANONBRANCH_OIDC_JWKS_URL;
  if (!url) {
    throw unauthorized("the bearer token is not an anonbranch API key, and OIDC is not configured on this server (ANONBRANCH_OIDC_JWKS_URL)");
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, jwksFor(url), {
      issuer: svc.config.ANONBRANCH_OIDC_ISSUER,
      algorithms: asymmetric,
      requiredClaims: ["exp", "aud"],
    }));
  } catch (error) {
    throw oidcFailure(svc, error);
  }
  const claims = OidcClaims.safeParse(payload);
  if (!claims.success) throw unauthorized("the OIDC token has no repository claim: only GitHub Actions tokens are accepted");
  const { iss, aud, repository, ref } = claims.data;
  const audiences = typeof aud === "string" ? [aud] : aud;
  const { trusted, matching } = await matchTrustPolicies(svc.db, {
    issuer: iss,
    audiences,
    repository,
    ref,
    repositoryId: claims.data.repository_id,
    repositoryOwnerId: claims.data.repository_owner_id,
    environment: claims.data.environment,
    jobWorkflowRef: claims.data.job_workflow_ref,
  });
  if (trusted.length === 0) {
    throw unauthorized(`the OIDC token's audience (${audiences.join(", ")}) is not accepted by any trust policy`);
  }
  if (matching.length === 0) {
    const ids = claims.data.repository_id ? ` (repository_id ${claims.data.repository_id})` : "";
    throw forbidden(`no trust policy admits repository ${repository}${ids}${ref ? ` at ${ref}` : ""}`);
  }
  // One principal, one role: when policies of several projects match with
  // different roles, the token gets the narrower one (ci) everywhere.
  const role: PrincipalRole = matching.some((p) => p.role === "ci") ? "ci" : "developer";
  return {
    id: `oidc:${repository}@${ref ?? ""}`,
    name: `github:${repository}`,
    role,
    projects: [...new Set(matching.map((p) => p.projectId))],
  };
}

function oidcFailure(svc: Services, error: unknown): DomainError {
  if (error instanceof errors.JWTExpired) return unauthorized("the OIDC token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) return unauthorized(`the OIDC token is not valid: ${error.message}`);
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return unauthorized("the OIDC token's signature does not verify against the issuer's keys");
  }
  if (
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid
  ) {
    return unauthorized(`the OIDC token is not valid: ${error.message}`);
  }
  // Left: the key set could not be fetched or read. Our side, not the caller's.
  svc.log.warn("cannot fetch the OIDC issuer's signing keys", { error });
  return new DomainError("unavailable", "OIDC_UNAVAILABLE", "cannot verify the OIDC token now: the issuer's signing keys could not be fetched");
}
