// The OpenAPI document: valid for a real OpenAPI 3.1 validator, every
// operation with request and response examples that satisfy the route's own
// zod schemas, every error in the one envelope; and the reference page at
// /api/v2/docs rendered from it with nothing loaded from elsewhere. Every check
// iterates the document's operations, so routes added later are held to it too.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { z } from "@hono/zod-openapi";
import { listOperations, type OpenApiDocument } from "../src/api/docs-page.ts";
import { apiRoutes } from "../src/api/routes/index.ts";
import { ErrorSchema } from "../src/api/schemas.ts";
import { startHarness, type Harness } from "./helpers/harness.ts";

let h: Harness;
let doc: OpenApiDocument & { paths: Record<string, Record<string, any>> };

interface RouteConfig {
  method: string;
  path: string;
  request?: {
    params?: z.ZodType;
    query?: z.ZodType;
    body?: { content: Record<string, { schema: z.ZodType; example?: unknown }> };
  };
  responses: Record<string, { content?: Record<string, { schema: z.ZodType; example?: unknown }> }>;
}

function routeConfigs(): RouteConfig[] {
  return apiRoutes()
    .openAPIRegistry.definitions.filter((d) => d.type === "route")
    .map((d) => (d as unknown as { route: RouteConfig }).route);
}

function operations() {
  return listOperations(doc).map(({ method, path, op }) => ({ name: `${method.toUpperCase()} ${path}`, method, path, op: op as any }));
}

before(async () => {
  h = await startHarness({ worker: false });
  const res = await h.fetch(new Request("http://anonbranch.test/api/v2/openapi.json"));
  assert.equal(res.status, 200);
  doc = (await res.json()) as typeof doc;
});

after(async () => {
  await h?.close();
});

describe("OpenAPI document", () => {
  test("passes an OpenAPI 3.1 schema validator with no error", async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Record<string, unknown>);
    assert.equal(validator.version, "3.1");
    assert.deepEqual(result.errors ?? [], [], JSON.stringify(result.errors, null, 2));
    assert.equal(result.valid, true);
    assert.ok(operations().length > 0);
  });

  test("every operation has a summary and examples for its parameters, body and responses", () => {
    const missing: string[] = [];
    for (const { name, op } of operations()) {
      if (!op.summary) missing.push(`${name}: summary`);
      for (const p of op.parameters ?? []) {
        if (p.required && p.example === undefined && p.schema?.example === undefined) missing.push(`${name}: parameter ${p.name}`);
      }
      for (const [type, media] of Object.entries<any>(op.requestBody?.content ?? {})) {
        if (media.example === undefined && media.examples === undefined) missing.push(`${name}: request body ${type}`);
      }
      const statuses = Object.keys(op.responses ?? {});
      if (!statuses.some((s) => /^2/.test(s))) missing.push(`${name}: a 2xx response`);
      for (const [status, response] of Object.entries<any>(op.responses ?? {})) {
        for (const [type, media] of Object.entries<any>(response.content ?? {})) {
          if (media.example === undefined && media.examples === undefined) missing.push(`${name}: ${status} ${type} example`);
        }
      }
    }
    assert.deepEqual(missing, []);
  });

  test("every error response is the one envelope, GeneralError", () => {
    const general = doc.components?.schemas?.GeneralError as any;
    assert.deepEqual(Object.keys(general.properties).sort(), ["code", "message", "request_id"]);
    const offenders: string[] = [];
    for (const { name, op } of operations()) {
      const errors = Object.entries<any>(op.responses ?? {}).filter(([s]) => /^[45]/.test(s));
      if (errors.length === 0) offenders.push(`${name}: declares no error response`);
      for (const [status, response] of errors) {
        const media = Object.entries<any>(response.content ?? {});
        if (media.length === 0) offenders.push(`${name} ${status}: no body`);
        for (const [type, m] of media) {
          if (type !== "application/json" || m.schema?.$ref !== "#/components/schemas/GeneralError") {
            offenders.push(`${name} ${status}: ${type} ${JSON.stringify(m.schema)}`);
          }
        }
      }
    }
    assert.deepEqual(offenders, []);
  });

  test("every example satisfies the zod schema the route validates and answers with", () => {
    const configs = routeConfigs();
    const wrong: string[] = [];
    for (const { name, method, path, op } of operations()) {
      const route = configs.find((r) => r.method === method && r.path === path);
      if (!route) {
        wrong.push(`${name}: no route config`);
        continue;
      }
      const examplesOf = (where: string) =>
        Object.fromEntries(
          (op.parameters ?? [])
            .filter((p: any) => p.in === where && (p.example ?? p.schema?.example) !== undefined)
            .map((p: any) => [p.name, String(p.example ?? p.schema?.example)]),
        );
      const check = (what: string, schema: z.ZodType | undefined, value: unknown) => {
        if (!schema || value === undefined) return;
        const parsed = schema.safeParse(value);
        if (!parsed.success) wrong.push(`${name} ${what}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
      };
      check("path parameters", route.request?.params, examplesOf("path"));
      check("query parameters", route.request?.query, examplesOf("query"));
      for (const [type, media] of Object.entries(route.request?.body?.content ?? {})) check(`body ${type}`, media.schema, media.example);
      for (const [status, response] of Object.entries(route.responses)) {
        for (const [type, media] of Object.entries(response.content ?? {})) check(`${status} ${type}`, media.schema, media.example);
      }
    }
    assert.deepEqual(wrong, []);
  });

  test("errors the app really answers are in the envelope the document declares", async () => {
    const answers = [
      await h.request("GET", "/no_such_route"),
      await h.request("GET", "/projects", undefined, null),
      await h.request("GET", "/projects/not-a-project-id"),
      await h.request("POST", "/projects", "{not json"),
      await h.request("POST", "/projects", { project: { name: "x", source: { connection_uri: "mysql://x", databases: [] } } }),
    ];
    assert.deepEqual(
      answers.map((a) => a.status),
      [404, 401, 400, 400, 400],
    );
    for (const answer of answers) {
      assert.deepEqual(Object.keys(answer.body).sort(), ["code", "message", "request_id"], JSON.stringify(answer.body));
      assert.ok(ErrorSchema.safeParse(answer.body).success);
    }
  });
});

describe("GET /api/v2/docs", () => {
  test("renders every operation from the document, unauthenticated, with nothing to fetch from elsewhere", async () => {
    const res = await h.fetch(new Request("http://anonbranch.test/api/v2/docs"));
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    // The browser may load nothing at all but the page's own inline style.
    assert.equal(res.headers.get("content-security-policy"), "default-src 'none'; style-src 'unsafe-inline'");
    const page = await res.text();
    assert.doesNotMatch(page, /<script|<link|<img|<iframe|@import|url\(/i);
    const targets = [...page.matchAll(/\b(?:href|src|action)="([^"]*)"/g)].map((m) => m[1]!);
    assert.ok(targets.length > 0);
    assert.deepEqual(
      targets.filter((t) => !t.startsWith("#") && !t.startsWith("/api/v2/")),
      [],
      "only links within the page or to the API",
    );

    const ops = operations();
    assert.equal((page.match(/<section class="op"/g) ?? []).length, ops.length);
    for (const { method, path, op } of ops) {
      const section = page.slice(page.indexOf(`<code>${path}</code>`));
      assert.ok(page.includes(`<span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code>`), `${method} ${path}`);
      assert.ok(section.length > 0);
      if (op.summary) assert.ok(page.includes(escapeHtml(op.summary)), op.summary);
    }
    for (const name of Object.keys(doc.components?.schemas ?? {})) assert.ok(page.includes(`id="schema-${name}"`), name);
  });
});

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
