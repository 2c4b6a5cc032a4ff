// Bearer authentication → the request's principal. For now one static admin
// token from the environment; API keys and OIDC slot in here.
import { timingSafeEqual, createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { Principal } from "../control/context.ts";
import { errorBody } from "./errors.ts";
import type { AppEnv } from "./env.ts";

export interface AuthConfig {
  adminToken: string;
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

export function authenticate(config: AuthConfig): MiddlewareHandler<AppEnv> {
  const expected = digest(config.adminToken);
  const admin: Principal = { id: "admin", name: "admin", role: "admin", projects: "*" };
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      return c.json(errorBody(c, "UNAUTHORIZED", "missing bearer token: send Authorization: Bearer <key>"), 401);
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      return c.json(errorBody(c, "UNAUTHORIZED", "the bearer token is not valid"), 401);
    }
    c.set("principal", { ...admin, requestId: c.get("requestId") });
    await next();
  };
}
