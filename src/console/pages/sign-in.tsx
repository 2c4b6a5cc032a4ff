// Sign-in with an API key or the admin token (checked as the API checks a
// bearer token), and sign-out. The token never comes back in a page.
import type { Context, Hono } from "hono";
import { DomainError } from "../../lib/errors.ts";
import type { ConsoleEnv } from "../env.ts";
import { CsrfField, Flash, Layout } from "../layout.tsx";
import {
  assertSameOrigin,
  clearSignInToken,
  endSession,
  newSignInToken,
  requireSession,
  safeNext,
  signInLocation,
  signInTokenMatches,
  startSession,
  type PrincipalResolver,
} from "../session.ts";

const reasons: Record<string, string> = {
  required: "Sign in to continue.",
  expired: "Your session ended: its key was revoked or has expired. Sign in again.",
  "signed-out": "You are signed out.",
};

function SignInPage(props: { csrf: string; next?: string; message?: string; error?: boolean }) {
  return (
    <Layout title="Sign in">
      <h1>Sign in</h1>
      <Flash message={props.message} error={props.error} />
      <form method="post" action="/console/sign-in">
        <CsrfField csrf={props.csrf} />
        {props.next ? <input type="hidden" name="next" value={props.next} /> : null}
        <div class="field">
          <label for="token">API key or admin token</label>
          <input id="token" name="token" type="password" required autocomplete="off" aria-describedby="token-hint" />
          <p id="token-hint" class="hint">
            The key is kept in an HttpOnly cookie of this browser for 12 hours, and it can do here exactly what it can do
            with the API.
          </p>
        </div>
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}

function renderSignIn(c: Context<ConsoleEnv>, props: { next?: string; message?: string; error?: boolean }, status: 200 | 401 | 403 = 200) {
  return c.html(<SignInPage csrf={newSignInToken(c)} {...props} />, status);
}

export function registerSignIn(app: Hono<ConsoleEnv>, principalFor: PrincipalResolver): void {
  app.get("/sign-in", (c) => {
    const reason = c.req.query("reason");
    return renderSignIn(c, { next: safeNext(c.req.query("next")) ?? undefined, message: reason ? reasons[reason] : undefined });
  });

  app.post("/sign-in", async (c) => {
    assertSameOrigin(c);
    const form = await c.req.parseBody();
    const field = (name: string) => (typeof form[name] === "string" ? (form[name] as string) : "");
    const next = safeNext(field("next")) ?? undefined;
    if (!signInTokenMatches(c, field("_csrf"))) {
      return renderSignIn(c, { next, message: "The sign-in form expired. Please try again.", error: true }, 403);
    }
    const token = field("token").trim();
    if (!token) return renderSignIn(c, { next, message: "token: enter an API key or the admin token", error: true }, 401);
    try {
      await principalFor(token);
    } catch (error) {
      if (error instanceof DomainError && error.kind === "unauthorized") {
        return renderSignIn(c, { next, message: `Not signed in: ${error.message}`, error: true }, 401);
      }
      throw error;
    }
    clearSignInToken(c);
    startSession(c, token);
    return c.redirect(safeNext(next) ?? "/console/projects", 303);
  });

  app.post("/sign-out", requireSession(principalFor), (c) => {
    endSession(c);
    return c.redirect(signInLocation(undefined, "signed-out"), 303);
  });
}
