// Static assets of the console, served from memory under a content-hashed URL
// so browsers may cache them for good and a new version is fetched at once.
import { createHash } from "node:crypto";
import type { Hono } from "hono";
import type { ConsoleEnv } from "../env.ts";
import { clientScript } from "./client-script.ts";
import { stylesheet } from "./style.ts";

// A small mask glyph, so browsers asking for an icon get one instead of a 404.
const favicon =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b57d0"/>' +
  '<path d="M6 11c6-3 14-3 20 0 0 8-4 13-10 13S6 19 6 11z" fill="#fff"/>' +
  '<circle cx="12" cy="14" r="2" fill="#0b57d0"/><circle cx="20" cy="14" r="2" fill="#0b57d0"/></svg>';

const version = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 12);

const integrity = (text: string): string => `sha384-${createHash("sha384").update(text).digest("base64")}`;

/** Subresource integrity of the stylesheet and the script, for their tags. */
export const assetIntegrity = { style: integrity(stylesheet), script: integrity(clientScript) };

export const assetUrls = {
  style: `/console/static/console-${version(stylesheet)}.css`,
  script: `/console/static/console-${version(clientScript)}.js`,
  icon: `/console/static/icon-${version(favicon)}.svg`,
};

export function serveAssets(app: Hono<ConsoleEnv>): void {
  const serve = (path: string, body: string, type: string) =>
    app.get(path.replace(/^\/console/, ""), (c) => {
      c.header("Content-Type", type);
      c.header("Cache-Control", "public, max-age=31536000, immutable");
      return c.body(body);
    });
  serve(assetUrls.style, stylesheet, "text/css; charset=utf-8");
  serve(assetUrls.script, clientScript, "text/javascript; charset=utf-8");
  serve(assetUrls.icon, favicon, "image/svg+xml");
}
