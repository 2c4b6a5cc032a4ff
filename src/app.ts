// createApp(deps): the Hono app that Node, Workers and the tests all use.
import { randomUUID } from "node:crypto";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { authenticate, type AuthConfig } from "./api/auth.ts";
import { renderDocsPage, type OpenApiDocument } from "./api/docs-page.ts";
import type { AppEnv } from "./api/env.ts";
import { UNAVAILABLE_RETRY_AFTER_SECONDS, errorBody, handleError } from "./api/errors.ts";
import { apiRoutes } from "./api/routes/index.ts";
import type { Services } from "./control/context.ts";
import { consoleApp } from "./console/index.tsx";
import type { RateLimiter } from "./control/rate-limits.ts";
import { readinessChecker } from "./control/readiness.ts";

export interface AppDeps {
  services: Services;
  auth: AuthConfig;
  /** Rate limits per principal (429 + Retry-After); none when absent. */
  rateLimiter?: RateLimiter;
}

/** The route a request matched, as registered ("GET /api/v2/projects/:project_id"): the burst limit's unit. */
function routeOf(c: Context): string {
  const handler = [...matchedRoutes(c)].reverse().find((r) => r.method !== "ALL");
  return handler ? `${handler.method} ${handler.path}` : `${c.req.method} ${c.req.path}`;
}

const requestIdPattern = /^[\w.:-]{1,128}$/;

export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const { log } = deps.services;

  app.use("*", async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && requestIdPattern.test(incoming) ? incoming : randomUUID();
    c.set("requestId", requestId);
    c.set("services", deps.services);
    c.header("X-Request-ID", requestId);
    const started = performance.now();
    await next();
    // What this request wrote is read back right away by its client: do not let a cached read answer it.
    if (c.req.method !== "GET" && c.req.method !== "HEAD") deps.services.cache?.invalidate();
    log.info("request", {
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    });
  });
  app.onError(handleError(log));
  app.notFound((c) => c.json(errorBody(c, "NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`), 404));

  // Liveness: the process answers. Readiness: what it depends on answers; 503
  // only when the metadata database is down (nothing can be served then); a
  // data-plane server that is down makes it "degraded" and is named.
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  const readiness = readinessChecker(deps.services);
  app.get("/readyz", async (c) => {
    const ready = await readiness();
    if (ready.status === "unavailable") c.header("Retry-After", String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    return c.json(ready, ready.status === "unavailable" ? 503 : 200);
  });

  const api = apiRoutes();
  const documentConfig = {
    openapi: "3.1.0",
    info: { title: "anonbranch API (Neon API v2 compatible subset)", version: "0.1.0" },
    servers: [{ url: "/api/v2" }],
    security: [{ bearer: [] }],
  };
  api.doc31("/openapi.json", documentConfig);
  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  // The reference page is rendered once, on first request, from the same document.
  let docsPage: string | undefined;
  api.get("/docs", (c) => {
    docsPage ??= renderDocsPage(api.getOpenAPI31Document(documentConfig) as OpenApiDocument, "/api/v2/openapi.json");
    c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    return c.html(docsPage);
  });
  const auth = authenticate(deps.auth, deps.services);
  const publicPaths = new Set(["/api/v2/openapi.json", "/api/v2/docs"]);
  const limiter = deps.rateLimiter;
  // Authentication, then the rate limit (the principal is its unit; in memory, no round trip).
  const admit = limiter ? (c: Context) => limiter.admit(c.get("principal"), routeOf(c)) : () => {};
  app.use("/api/v2/*", async (c, next) => {
    if (publicPaths.has(c.req.path)) return next();
    return auth(c, () => {
      admit(c);
      return next();
    });
  });
  app.route("/api/v2", api);
  app.route("/console", consoleApp(deps));
  return app;
}
