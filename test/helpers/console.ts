// The console over real HTTP: the harness's app served on a free port, a
// small cookie-keeping client for page tests, headless Debian Chromium for
// browser tests, and the HTML validator both use.
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { HtmlValidate } from "html-validate";
import { chromium, type BrowserContext } from "playwright-core";
import type { Harness } from "./harness.ts";

export interface Served {
  origin: string;
  close(): Promise<void>;
}

export async function serveHarness(h: Harness): Promise<Served> {
  const server: ServerType = serve({ fetch: h.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface PageResponse {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

/** A browser-like client: keeps cookies, sends Origin on POST, never follows redirects. */
export class ConsoleClient {
  readonly cookies = new Map<string, string>();
  /** Raw Set-Cookie headers seen, to check their attributes. */
  readonly setCookies: string[] = [];

  constructor(readonly origin: string) {}

  async request(method: string, path: string, init: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {}): Promise<PageResponse> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (method !== "GET" && !("origin" in headers)) headers.origin = this.origin;
    let body: string | undefined;
    if (init.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(init.form).toString();
    } else if (init.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(init.json);
    }
    for (const [k, v] of Object.entries(headers)) if (v === "") delete headers[k];
    const res = await fetch(`${this.origin}${path}`, { method, headers, body, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      this.setCookies.push(line);
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/max-age=0/i.test(line) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, headers: res.headers, text: await res.text(), location: res.headers.get("location") };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request("GET", path, { headers });
  }

  post(path: string, form: Record<string, string>, headers?: Record<string, string>) {
    return this.request("POST", path, { form, headers });
  }

  /** Signs in through the real form; returns the session's CSRF token. */
  async signIn(token: string): Promise<string> {
    const form = await this.get("/console/sign-in");
    const res = await this.post("/console/sign-in", { _csrf: hiddenValue(form.text, "_csrf"), token });
    if (res.status !== 303) throw new Error(`sign-in answered ${res.status}: ${res.text.slice(0, 300)}`);
    const page = await this.get("/console/projects");
    return metaCsrf(page.text);
  }
}

export function hiddenValue(html: string, name: string): string {
  const m = new RegExp(`<input type="hidden" name="${name.replace(/\./g, "\\.")}" value="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no hidden input ${name} in the page`);
  return decodeEntities(m[1]!);
}

export function metaCsrf(html: string): string {
  const m = /<meta name="csrf-token" content="([^"]*)"/.exec(html);
  if (!m) throw new Error("no csrf-token meta in the page");
  return m[1]!;
}

export function decodeEntities(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** Visible text of a page, roughly: tags dropped, entities decoded, blanks squeezed. */
export function textOf(html: string): string {
  return decodeEntities(html.replace(/<script[\s\S]*?<\/script>/g, " ").replace(/<[^>]+>/g, " ")).replace(/\s+/g, " ");
}

const validator = new HtmlValidate({ extends: ["html-validate:standard", "html-validate:a11y", "html-validate:document"] });

/** html-validate's messages for a page ("" when it validates). */
export async function htmlProblems(html: string): Promise<string> {
  const report = await validator.validateString(html);
  return report.results
    .flatMap((r) => r.messages)
    .map((m) => `${m.line}:${m.column} ${m.ruleId}: ${m.message}`)
    .join("\n");
}

// Debian's Chromium, driven by playwright-core (which never downloads a browser).
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--no-sandbox", // we run as root
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile directory, removed on close. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "anonbranch-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
