// createApp(deps): the Hono app that Node, Workers and the tests all use.
import { randomUUID } from "node:crypto";
import { OpenAPIHono } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { authenticate, type AuthConfig } from "./api/auth.ts";
import type { AppEnv } from "./api/env.ts";
import { errorBody, handleError } from "./api/errors.ts";
import { apiRoutes } from "./api/routes/index.ts";
import type { Services } from "./control/context.ts";

export interface AppDeps {
  services: Services;
  auth: AuthConfig;
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

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    try {
      await deps.services.db.execute(sql`SELECT 1`);
      return c.json({ status: "ready" });
    } catch {
      return c.json({ status: "metadata database unreachable" }, 503);
    }
  });

  const api = apiRoutes();
  api.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "anonbranch API (Neon API v2 compatible subset)", version: "0.1.0" },
    servers: [{ url: "/api/v2" }],
    security: [{ bearer: [] }],
  });
  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  const auth = authenticate(deps.auth, deps.services);
  app.use("/api/v2/*", async (c, next) => {
    if (c.req.path === "/api/v2/openapi.json") return next();
    return auth(c, next);
  });
  app.route("/api/v2", api);
  return app;
}
