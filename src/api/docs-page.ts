// GET /api/v2/docs: an API reference rendered on the server from the OpenAPI
// document itself — no script, no CDN, no asset to ship — so it works offline
// and on Workers alike. hono/html escapes every interpolated value.
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

type Json = unknown;

interface MediaType {
  schema?: Schema;
  example?: Json;
  examples?: Record<string, { value?: Json }>;
}
interface Schema {
  $ref?: string;
  type?: string | string[];
  [key: string]: unknown;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
  example?: Json;
}
interface Operation {
  summary?: string;
  description?: string;
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, MediaType> };
  responses?: Record<string, { description?: string; content?: Record<string, MediaType> }>;
}

/** The parts of an OpenAPI 3 document the page shows. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  servers?: { url: string }[];
  paths?: Record<string, Record<string, Operation> | undefined>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

/** Every operation of the document, in path order. */
export function listOperations(doc: OpenApiDocument): { method: string; path: string; op: Operation }[] {
  const out: { method: string; path: string; op: Operation }[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item?.[method];
      if (op) out.push({ method, path, op });
    }
  }
  return out;
}

const anchor = (method: string, path: string) => `${method}-${path.replace(/[^a-zA-Z0-9]+/g, "-").replace(/^-|-$/g, "")}`;
const refName = (ref: string) => ref.slice(ref.lastIndexOf("/") + 1);

function pretty(value: Json): string {
  return JSON.stringify(value, null, 2);
}

function exampleOf(media: MediaType, components: Record<string, Schema>): Json | undefined {
  if (media.example !== undefined) return media.example;
  const first = Object.values(media.examples ?? {})[0];
  if (first?.value !== undefined) return first.value;
  const ref = media.schema?.$ref;
  return ref ? components[refName(ref)]?.example : media.schema?.example;
}

function schemaLabel(schema: Schema | undefined): HtmlEscapedString | Promise<HtmlEscapedString> | string {
  if (!schema) return "";
  if (schema.$ref) {
    const name = refName(schema.$ref);
    return html`<a href="#schema-${name}">${name}</a>`;
  }
  if (schema.type === "array" && (schema.items as Schema | undefined)?.$ref) {
    const name = refName((schema.items as Schema).$ref!);
    return html`array of <a href="#schema-${name}">${name}</a>`;
  }
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : (schema.type ?? "any");
  const extra = schema.enum ? ` (${(schema.enum as unknown[]).join(", ")})` : schema.pattern ? ` (${String(schema.pattern)})` : "";
  return `${type}${extra}`;
}

function renderParameters(params: Parameter[]) {
  if (params.length === 0) return "";
  return html`<h4>Parameters</h4>
    <table>
      <tr><th>name</th><th>in</th><th>required</th><th>type</th><th>example</th></tr>
      ${params.map(
        (p) => html`<tr>
          <td><code>${p.name}</code></td><td>${p.in}</td><td>${p.required ? "yes" : "no"}</td>
          <td>${schemaLabel(p.schema)}</td>
          <td>${p.example ?? p.schema?.example ?? p.schema?.default ?? ""}</td>
        </tr>`,
      )}
    </table>`;
}

function renderMedia(content: Record<string, MediaType> | undefined, components: Record<string, Schema>) {
  return Object.entries(content ?? {}).map(([type, media]) => {
    const example = exampleOf(media, components);
    return html`<p class="media"><code>${type}</code> ${schemaLabel(media.schema)}</p>
      ${example === undefined ? "" : html`<pre>${pretty(example)}</pre>`}
      ${media.schema && !media.schema.$ref
        ? html`<details><summary>schema</summary><pre>${pretty(media.schema)}</pre></details>`
        : ""}`;
  });
}

function renderOperation(method: string, path: string, op: Operation, components: Record<string, Schema>) {
  const responses = Object.entries(op.responses ?? {});
  const success = responses.filter(([status]) => !/^[45]/.test(status));
  const errors = responses.filter(([status]) => /^[45]/.test(status));
  return html`<section class="op" id="${anchor(method, path)}">
    <h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>
    ${op.summary ? html`<p>${op.summary}</p>` : ""} ${op.description ? html`<p>${op.description}</p>` : ""}
    ${renderParameters(op.parameters ?? [])}
    ${op.requestBody
      ? html`<h4>Request body${op.requestBody.required ? "" : " (optional)"}</h4>${renderMedia(op.requestBody.content, components)}`
      : ""}
    <h4>Responses</h4>
    ${success.map(
      ([status, r]) => html`<div class="response"><b>${status}</b> ${r.description ?? ""}${renderMedia(r.content, components)}</div>`,
    )}
    ${errors.length
      ? html`<details class="errors"><summary>Errors: ${errors.map(([s]) => s).join(", ")}</summary>
          ${errors.map(([status, r]) => html`<div class="response"><b>${status}</b> ${r.description ?? ""}${renderMedia(r.content, components)}</div>`)}
        </details>`
      : ""}
  </section>`;
}

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d232a;display:flex}
nav{width:22rem;height:100vh;overflow:auto;position:sticky;top:0;border-right:1px solid #dde;padding:1rem;box-sizing:border-box;font-size:13px}
nav a{display:block;text-decoration:none;color:inherit;padding:2px 0;word-break:break-all}
main{flex:1;padding:1rem 2rem;max-width:60rem}
pre{background:#f5f6f8;padding:.6rem;overflow:auto;font-size:12px;border-radius:4px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #dde;padding:2px 6px;text-align:left}
.op{border-top:1px solid #dde;padding-top:.5rem;margin-top:1.5rem}
.method{font:bold 12px monospace;padding:2px 6px;border-radius:3px;color:#fff;background:#555}
.get{background:#2b6cb0}.post{background:#2f855a}.put,.patch{background:#b7791f}.delete{background:#c53030}
.media{margin:.3rem 0}.response{margin:.4rem 0}`;

/** The whole page: a table of contents, every operation with its examples, the component schemas. */
export function renderDocsPage(doc: OpenApiDocument, documentUrl: string): string {
  const components = doc.components?.schemas ?? {};
  const ops = listOperations(doc);
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${doc.info.title} — API reference</title><style>${raw(STYLE)}</style></head>
<body>
<nav><b>${doc.info.title}</b><br>version ${doc.info.version}
  ${ops.map(({ method, path, op }) => html`<a href="#${anchor(method, path)}" title="${op.summary ?? ""}"><span class="method ${method}">${method.toUpperCase()}</span> ${path}</a>`)}
  <a href="#schemas"><b>Schemas</b></a>
</nav>
<main>
<h1>${doc.info.title}</h1>
${doc.info.description ? html`<p>${doc.info.description}</p>` : ""}
<p>Base URL: <code>${doc.servers?.[0]?.url ?? "/"}</code>. Every call but this page and
<a href="${documentUrl}">the OpenAPI document</a> (OpenAPI ${doc.openapi}) needs <code>Authorization: Bearer &lt;token&gt;</code>.
Errors always come as <code>{"code", "message", "request_id"}</code> (<a href="#schema-GeneralError">GeneralError</a>).</p>
${ops.map(({ method, path, op }) => renderOperation(method, path, op, components))}
<h2 id="schemas">Schemas</h2>
${Object.entries(components).map(
  ([name, schema]) => html`<section id="schema-${name}"><h3>${name}</h3><pre>${pretty(schema)}</pre></section>`,
)}
</main></body></html>`;
  // Everything above is synchronous, so the escaped string is ready now.
  return String(page);
}
