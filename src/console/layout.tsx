// The page frame every console page shares, and small display helpers.
import type { Context } from "hono";
import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Principal } from "../control/context.ts";
import { assetIntegrity, assetUrls } from "./assets/index.ts";
import type { ConsoleEnv } from "./env.ts";
import { CSRF_FIELD } from "./session.ts";

export interface Crumb {
  label: string;
  href?: string;
}

interface LayoutProps {
  title: string;
  principal?: Principal;
  csrf?: string;
  crumbs?: Crumb[];
  children?: Child;
}

export function Layout({ title, principal, csrf, crumbs, children }: LayoutProps) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${title} · anonbranch console`}</title>
          {csrf ? <meta name="csrf-token" content={csrf} /> : null}
          <link rel="icon" href={assetUrls.icon} type="image/svg+xml" />
          <link rel="stylesheet" href={assetUrls.style} integrity={assetIntegrity.style} />
          <script src={assetUrls.script} integrity={assetIntegrity.script} defer></script>
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="top">
            <a class="brand" href="/console/projects">
              anonbranch console
            </a>
            {principal && csrf ? (
              <div class="who">
                <span>
                  Signed in as <strong>{principal.name}</strong> ({principal.role})
                </span>
                <form method="post" action="/console/sign-out" class="inline">
                  <CsrfField csrf={csrf} />
                  <button type="submit" class="secondary">
                    Sign out
                  </button>
                </form>
              </div>
            ) : null}
          </header>
          <main id="main">
            {crumbs && crumbs.length > 0 ? (
              <nav class="crumbs" aria-label="Breadcrumb">
                <ol>
                  {crumbs.map((c, i) => (
                    <li>{c.href && i < crumbs.length - 1 ? <a href={c.href}>{c.label}</a> : <span aria-current="page">{c.label}</span>}</li>
                  ))}
                </ol>
              </nav>
            ) : null}
            {children}
          </main>
        </body>
      </html>
    </>
  );
}

export const CsrfField = ({ csrf }: { csrf: string }) => <input type="hidden" name={CSRF_FIELD} value={csrf} />;

/** A timestamp for people, with the exact instant for machines. */
export function Time({ iso }: { iso: string | undefined | null }) {
  if (!iso) return <span class="muted">never</span>;
  const text = `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
  return <time datetime={iso}>{text}</time>;
}

export function Flash({ message, error }: { message?: string | null; error?: boolean }) {
  if (!message) return null;
  return (
    <p class={error ? "flash error" : "flash"} role={error ? "alert" : "status"}>
      {message}
    </p>
  );
}

export const StateBadge = ({ state }: { state: string }) => <span class={`badge state-${state}`}>{state}</span>;

/** Renders a page with the session's principal and CSRF token in the frame. */
export function page(
  c: Context<ConsoleEnv>,
  props: { title: string; crumbs?: Crumb[]; status?: ContentfulStatusCode },
  body: Child,
) {
  return c.html(
    <Layout title={props.title} crumbs={props.crumbs} principal={c.get("principal")} csrf={c.get("csrf")}>
      {body}
    </Layout>,
    props.status ?? 200,
  );
}

/**
 * Whether work is under way or queued: cloning, masking, or initialized with a
 * run waiting for a worker (create with start_anonymization passes through
 * "initialized" on its way to "anonymizing"). The client script has the same rule.
 */
export function workPending(status: { state: string; last_run?: { completed_at?: string } }): boolean {
  if (status.state === "created" || status.state === "anonymizing") return true;
  return status.state === "initialized" && status.last_run !== undefined && !status.last_run.completed_at;
}

/** Progress of a status message such as "Anonymizing table shop.public.users (3/5)". */
export function progressOf(state: string, message: string): { value: number; max: number; text: string } {
  if (state === "anonymized") return { value: 1, max: 1, text: "done" };
  const m = /\((\d+)\/(\d+)\)/.exec(message);
  if (m) return { value: Number(m[1]) - 1, max: Number(m[2]), text: `${m[1]}/${m[2]}` };
  return { value: 0, max: 1, text: state };
}
