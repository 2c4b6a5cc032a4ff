// The web console under /console: server-rendered pages (hono/jsx) that call
// the verbs in src/control/ with the principal the API would resolve from the
// same token. Mounted by src/app.ts.
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { tokenAuthenticator, type AuthConfig } from "../api/auth.ts";
import { httpStatusOf } from "../api/errors.ts";
import type { Services } from "../control/context.ts";
import { DomainError } from "../lib/errors.ts";
import { serveAssets } from "./assets/index.ts";
import type { ConsoleEnv } from "./env.ts";
import { Flash, Layout } from "./layout.tsx";
import { registerAudit } from "./pages/audit.tsx";
import { registerBranches } from "./pages/branches.tsx";
import { registerMasking } from "./pages/masking.tsx";
import { registerProjects } from "./pages/projects.tsx";
import { registerSignIn } from "./pages/sign-in.tsx";
import { requireSession, signInLocation } from "./session.ts";

export interface ConsoleDeps {
  services: Services;
  auth: AuthConfig;
}

/** Forms of a few thousand columns fit; anything larger is refused before it is read. */
const MAX_BODY_BYTES = 1024 * 1024;

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const titles: Record<number, string> = { 401: "Sign in again", 403: "Not allowed", 404: "Not found", 413: "Too large" };

export function consoleApp(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  app.use("*", async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    c.header("X-Frame-Options", "DENY");
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  });
  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.text(`request body larger than ${MAX_BODY_BYTES} bytes`, 413),
    }),
  );
  app.onError((error, c) => {
    const wantsJson = [c.req.header("accept"), c.req.header("content-type")].some((h) => h?.includes("application/json"));
    if (!(error instanceof DomainError)) {
      deps.services.log.error("unhandled console error", { request_id: c.get("requestId"), error });
    }
    const status = error instanceof DomainError ? httpStatusOf(error) : 500;
    const code = error instanceof DomainError ? error.code : "INTERNAL_ERROR";
    const message = error instanceof DomainError ? error.message : "internal error";
    if (wantsJson) return c.json({ code, message, request_id: c.get("requestId") }, status);
    return c.html(
      <Layout title={titles[status] ?? "Error"} principal={c.get("principal")} csrf={c.get("csrf")}>
        <h1>{titles[status] ?? "Something went wrong"}</h1>
        <Flash message={message} error />
        <p class="muted">
          Request id <code>{c.get("requestId")}</code>
        </p>
        <p>
          {status === 401 ? <a href={signInLocation(undefined)}>Sign in</a> : <a href="/console/projects">Back to projects</a>}
        </p>
      </Layout>,
      status,
    );
  });

  const principalFor = tokenAuthenticator(deps.auth, deps.services);
  serveAssets(app);
  registerSignIn(app, principalFor);
  app.get("*", async (c, next) => {
    if (c.req.path === "/console" || c.req.path === "/console/") return c.redirect("/console/projects", 303);
    await next();
  });

  app.use("*", requireSession(principalFor));
  registerProjects(app);
  registerBranches(app);
  registerMasking(app);
  registerAudit(app);
  app.all("*", (c) => {
    throw new DomainError("not_found", "NOT_FOUND", `no console page at ${c.req.path}`);
  });
  return app;
}
