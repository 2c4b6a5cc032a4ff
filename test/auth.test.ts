// Who may do what, through the real app: API keys minted by the real
// POST /api_keys, every /api/v2 route against every kind of principal.
// GitHub Actions OIDC is in test/auth-oidc.test.ts.
//
// Route → roles allowed (developer and ci only within their keys' projects;
// a key for project A gets 403 on everything of project B). `routes` below is
// this table as data: the tests walk it, and check it covers every route the
// OpenAPI document lists.
//
// | Route                                                        | admin | developer | ci    |
// |--------------------------------------------------------------|-------|-----------|-------|
// | POST   /projects                                             | yes   | –         | –     |
// | GET    /projects                  (only the key's projects)  | yes   | yes       | yes   |
// | GET    /projects/{p}                                         | yes   | yes       | yes   |
// | DELETE /projects/{p}                                         | yes   | –         | –     |
// | GET    /projects/{p}/connection_uri     default branch       | yes   | –         | –     |
// | GET    /projects/{p}/connection_uri     anonymized branch    | yes   | yes       | yes   |
// | GET    /projects/{p}/operations/{op}                         | yes   | yes       | yes   |
// | GET    /projects/{p}/audit_log                               | yes   | –         | –     |
// | GET    /projects/{p}/masking_rules                           | yes   | yes       | yes   |
// | PUT    /projects/{p}/masking_rules                           | yes   | –         | –     |
// | GET    /projects/{p}/sensitive_columns   (sample=true: admin)| yes   | yes       | yes   |
// | POST   /projects/{p}/masking_rules/validate                  | yes   | yes       | yes   |
// | GET    /projects/{p}/not_sensitive_columns                   | yes   | yes       | yes   |
// | PUT    /projects/{p}/not_sensitive_columns                   | yes   | –         | –     |
// | POST   /projects/{p}/branch_anonymized                       | yes   | yes       | yes¹  |
// | GET    /projects/{p}/branches, …/branches/{b}                | yes   | yes       | yes   |
// | PATCH  /projects/{p}/branches/{b}                            | yes   | yes       | yes²  |
// | DELETE /projects/{p}/branches/{b}   (default: refused to all)| yes   | yes       | yes   |
// | POST   …/branches/{b}/reset_to_parent (anonymized only)      | yes   | yes       | yes   |
// | GET    …/endpoints, …/databases[/{d}], …/roles[/{r}]         | yes   | yes       | yes   |
// | GET    …/roles/{r}/reveal_password      default branch       | yes   | –         | –     |
// | GET    …/roles/{r}/reveal_password      anonymized branch    | yes   | yes       | yes   |
// | GET/PATCH …/masking_rules, POST …/anonymize (anonymized only)| yes   | yes       | yes   |
// | POST   …/masking_rules/validate (dry run; anonymized only)   | yes   | yes       | yes   |
// | GET    …/anonymized_status, …/preview                        | yes   | yes       | yes   |
// | POST/GET /api_keys, DELETE /api_keys/{k}                     | yes   | –         | –     |
// | PATCH /projects/{p} (quotas), GET /servers, PATCH /servers/{s} | yes | –         | –     |
// | POST/GET /projects/{p}/trust_policies, DELETE …/{id}         | yes   | –         | –     |
// ¹ expires_at required, at most ANONBRANCH_CI_MAX_TTL_SECONDS ahead. ² cannot remove an expiry.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { eq, inArray } from "drizzle-orm";
import { SignJWT } from "jose";
import { auditEvents } from "../src/db/schema.ts";
import { startHarness, waitFor, type Harness, type MintedKey } from "./helpers/harness.ts";
import { connect } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

type Role = "admin" | "developer" | "ci";
const ADMIN: Role[] = ["admin"];
const ANY: Role[] = ["admin", "developer", "ci"];

interface Ids { project: string; main: string; branch: string; role: string; mainRole: string; db: string; op: string; key: string; policy: string }
interface RouteCase { route: string; note?: string; roles: Role[]; global?: boolean; path(i: Ids): string; body?(i: Ids): unknown }

const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
const rule = (db: string, column: string) => ({
  database_name: db, schema_name: "public", table_name: "users", column_name: column,
  masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')",
});
const br = (i: Ids, b = i.branch) => `/projects/${i.project}/branches/${b}`;

// Bodies and branch choices keep allowed calls harmless: they stop at 404/409/422 after authorisation.
const routes: RouteCase[] = [
  { route: "POST /projects", roles: ADMIN, global: true, path: () => "/projects",
    body: () => ({ project: { name: "x", source: { connection_uri: "postgresql://nobody@127.0.0.1:1/x", databases: ["x"] } } }) },
  { route: "GET /projects", roles: ANY, global: true, path: () => "/projects" },
  { route: "GET /projects/{project_id}", roles: ANY, path: (i) => `/projects/${i.project}` },
  { route: "DELETE /projects/{project_id}", roles: ADMIN, path: (i) => `/projects/${i.project}` },
  { route: "PATCH /projects/{project_id}", roles: ADMIN, path: (i) => `/projects/${i.project}`, body: () => ({ project: {} }) },
  { route: "GET /servers", roles: ADMIN, global: true, path: () => "/servers" },
  { route: "PATCH /servers/{server_id}", note: "unknown server", roles: ADMIN, global: true, path: () => "/servers/nowhere.invalid:1",
    body: () => ({ server: { storage_budget_bytes: null } }) },
  { route: "GET /projects/{project_id}/connection_uri", note: "default branch", roles: ADMIN,
    path: (i) => `/projects/${i.project}/connection_uri?database_name=${i.db}&role_name=${i.mainRole}` },
  { route: "GET /projects/{project_id}/connection_uri", note: "anonymized branch", roles: ANY,
    path: (i) => `/projects/${i.project}/connection_uri?branch_id=${i.branch}&database_name=${i.db}&role_name=${i.role}` },
  { route: "GET /projects/{project_id}/operations/{operation_id}", roles: ANY, path: (i) => `/projects/${i.project}/operations/${i.op}` },
  { route: "GET /projects/{project_id}/audit_log", roles: ADMIN, path: (i) => `/projects/${i.project}/audit_log` },
  { route: "GET /projects/{project_id}/masking_rules", roles: ANY, path: (i) => `/projects/${i.project}/masking_rules` },
  { route: "PUT /projects/{project_id}/masking_rules", roles: ADMIN, path: (i) => `/projects/${i.project}/masking_rules`,
    body: () => ({ masking_rules: [] }) },
  { route: "GET /projects/{project_id}/sensitive_columns", roles: ANY, path: (i) => `/projects/${i.project}/sensitive_columns` },
  { route: "GET /projects/{project_id}/sensitive_columns", note: "sample=true", roles: ADMIN, path: (i) => `/projects/${i.project}/sensitive_columns?sample=true` },
  { route: "POST /projects/{project_id}/masking_rules/validate", roles: ANY, path: (i) => `/projects/${i.project}/masking_rules/validate`,
    body: () => ({ masking_rules: [] }) },
  { route: "GET /projects/{project_id}/not_sensitive_columns", roles: ANY, path: (i) => `/projects/${i.project}/not_sensitive_columns` },
  { route: "PUT /projects/{project_id}/not_sensitive_columns", roles: ADMIN, path: (i) => `/projects/${i.project}/not_sensitive_columns`,
    body: () => ({ not_sensitive_columns: [] }) },
  { route: "POST /projects/{project_id}/branch_anonymized", roles: ANY, path: (i) => `/projects/${i.project}/branch_anonymized`,
    body: (i) => ({ branch_create: { branch: { expires_at: inMinutes(30) } }, masking_rules: [rule(i.db, "no_such_column")] }) },
  { route: "GET /projects/{project_id}/branches", roles: ANY, path: (i) => `/projects/${i.project}/branches` },
  { route: "GET /projects/{project_id}/branches/{branch_id}", roles: ANY, path: (i) => br(i) },
  { route: "PATCH /projects/{project_id}/branches/{branch_id}", roles: ANY, path: (i) => br(i), body: () => ({ branch: {} }) },
  { route: "DELETE /projects/{project_id}/branches/{branch_id}", note: "default branch", roles: ANY, path: (i) => br(i, i.main) },
  { route: "POST /projects/{project_id}/branches/{branch_id}/reset_to_parent", note: "default branch", roles: ANY, path: (i) => `${br(i, i.main)}/reset_to_parent` },
  { route: "GET /projects/{project_id}/branches/{branch_id}/endpoints", roles: ANY, path: (i) => `${br(i)}/endpoints` },
  { route: "GET /projects/{project_id}/branches/{branch_id}/databases", roles: ANY, path: (i) => `${br(i)}/databases` },
  { route: "GET /projects/{project_id}/branches/{branch_id}/databases/{database_name}", roles: ANY, path: (i) => `${br(i)}/databases/${i.db}` },
  { route: "GET /projects/{project_id}/branches/{branch_id}/roles", roles: ANY, path: (i) => `${br(i)}/roles` },
  { route: "GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}", roles: ANY, path: (i) => `${br(i)}/roles/${i.role}` },
  { route: "GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password", note: "default branch", roles: ADMIN,
    path: (i) => `${br(i, i.main)}/roles/${i.mainRole}/reveal_password` },
  { route: "GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password", note: "anonymized branch", roles: ANY,
    path: (i) => `${br(i)}/roles/${i.role}/reveal_password` },
  { route: "GET /projects/{project_id}/branches/{branch_id}/masking_rules", roles: ANY, path: (i) => `${br(i)}/masking_rules` },
  { route: "PATCH /projects/{project_id}/branches/{branch_id}/masking_rules", note: "default branch", roles: ANY,
    path: (i) => `${br(i, i.main)}/masking_rules`, body: () => ({ masking_rules: [] }) },
  { route: "POST /projects/{project_id}/branches/{branch_id}/masking_rules/validate", note: "default branch", roles: ANY,
    path: (i) => `${br(i, i.main)}/masking_rules/validate`, body: () => ({ masking_rules: [] }) },
  { route: "POST /projects/{project_id}/branches/{branch_id}/anonymize", note: "default branch", roles: ANY, path: (i) => `${br(i, i.main)}/anonymize` },
  { route: "GET /projects/{project_id}/branches/{branch_id}/anonymized_status", roles: ANY, path: (i) => `${br(i)}/anonymized_status` },
  { route: "GET /projects/{project_id}/branches/{branch_id}/preview", roles: ANY, path: (i) => `${br(i)}/preview?table=public.no_such_table` },
  { route: "POST /api_keys", roles: ADMIN, global: true, path: () => "/api_keys",
    body: (i) => ({ name: "nope", role: "developer", project_ids: [i.project] }) },
  { route: "GET /api_keys", roles: ADMIN, global: true, path: () => "/api_keys" },
  { route: "DELETE /api_keys/{key_id}", roles: ADMIN, global: true, path: (i) => `/api_keys/${i.key}` },
  { route: "POST /projects/{project_id}/trust_policies", roles: ADMIN, path: (i) => `/projects/${i.project}/trust_policies`,
    body: () => ({ audience: "nope", repository: "acme/nope" }) },
  { route: "GET /projects/{project_id}/trust_policies", roles: ADMIN, path: (i) => `/projects/${i.project}/trust_policies` },
  { route: "DELETE /projects/{project_id}/trust_policies/{policy_id}", roles: ADMIN, path: (i) => `/projects/${i.project}/trust_policies/${i.policy}` },
];

let h: Harness;
let shop: ShopDatabase;
let a: Ids;
let b: Ids;
const keys = {} as Record<"developer" | "ci", MintedKey>;
const secrets: string[] = []; // every token minted here: none may show up in a body or a log line
const bodies: string[] = [];
const branchesMade: string[] = [];

async function api(method: string, path: string, body?: unknown, token?: string | null) {
  const res = await h.request(method, path, body, token);
  bodies.push(JSON.stringify(res.body));
  return res;
}
const call = (r: RouteCase, ids: Ids, token: string | null) => api(r.route.split(" ")[0]!, r.path(ids), r.body?.(ids), token);
const label = (r: RouteCase) => (r.note ? `${r.route} (${r.note})` : r.route);

async function mint(role: Role, projects?: string[], expiresInSeconds?: number) {
  const key = await h.mintKey({ role, projects, expiresInSeconds });
  secrets.push(key.key);
  return key;
}

async function anonState(branchId: string) {
  const res = await h.request("GET", `/projects/${a.project}/branches/${branchId}/anonymized_status`);
  return res.body.state as string;
}

before(async () => {
  shop = await createShop(200, "authshop");
  h = await startHarness();
  const ids = async (name: string): Promise<Ids> => {
    const { projectId, defaultBranchId } = await h.registerProject([shop.name], name);
    const roles = await h.request("GET", `/projects/${projectId}/branches/${defaultBranchId}/roles`);
    const mainRole = roles.body.roles[0].name;
    const base = { project: projectId, main: defaultBranchId, branch: defaultBranchId, role: mainRole, mainRole, db: shop.name };
    return { ...base, op: randomUUID(), key: randomUUID(), policy: randomUUID() };
  };
  a = await ids("a");
  b = await ids("b");
  const made = await h.request("POST", `/projects/${a.project}/branch_anonymized`, {
    branch_create: { branch: { name: "masked" } }, masking_rules: [rule(shop.name, "email")], start_anonymization: true,
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  Object.assign(a, { branch: made.body.branch.id, role: made.body.roles[0].name, op: made.body.operations[0].id });
  const policy = await h.request("POST", `/projects/${a.project}/trust_policies`, { audience: "aud", repository: "acme/shop" });
  a.policy = policy.body.trust_policy.id;
  keys.developer = await mint("developer", [a.project]);
  keys.ci = await mint("ci", [a.project]);
  a.key = (await mint("developer", [a.project])).id;
  assert.equal(await waitFor(() => anonState(a.branch), (s) => s === "anonymized" || s === "error"), "anonymized");
});

after(async () => {
  // Let the worker finish what the tests started before the databases go away.
  for (const id of branchesMade) await waitFor(() => anonState(id), (s) => s !== "created" && s !== "anonymizing");
  await h?.close();
  await shop?.drop();
});

describe("every route", () => {
  test("the table covers every route of the OpenAPI document", async () => {
    const doc = await h.request("GET", "/openapi.json", undefined, null);
    const served = Object.entries(doc.body.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    assert.deepEqual([...new Set(routes.map((r) => r.route))].sort(), served.sort());
  });

  test("401 without a token and with a garbage token, on every route", async () => {
    const garbage = `garbage-${randomBytes(12).toString("hex")}`;
    secrets.push(garbage);
    for (const r of routes) {
      const none = await call(r, a, null);
      assert.equal(none.status, 401, `${label(r)} without a token`);
      assert.equal(none.body.code, "UNAUTHORIZED");
      assert.match(none.body.message, /missing bearer token/);
      assert.ok(none.body.request_id);
      const bad = await call(r, a, garbage);
      assert.equal(bad.status, 401, `${label(r)} with a garbage token`);
      assert.match(bad.body.message, /not valid/);
    }
  });

  for (const role of ["developer", "ci"] as const) {
    test(`${role} key: 403 naming the role on admin-only routes, past authorisation on the others`, async () => {
      for (const r of routes) {
        const res = await call(r, a, keys[role].key);
        if (r.roles.includes(role)) {
          assert.ok(![401, 403].includes(res.status), `${label(r)}: ${res.status} ${JSON.stringify(res.body)}`);
        } else {
          assert.equal(res.status, 403, `${label(r)}: ${res.status} ${JSON.stringify(res.body)}`);
          assert.equal(res.body.code, "FORBIDDEN");
          assert.match(res.body.message, new RegExp(`admin key; .* is ${role}`));
        }
      }
    });
  }

  test("a developer key for project A gets 403 on every route of project B", async () => {
    for (const r of routes.filter((r) => !r.global)) {
      const res = await call(r, b, keys.developer.key);
      assert.equal(res.status, 403, `${label(r)}: ${res.status} ${JSON.stringify(res.body)}`);
      if (r.roles.includes("developer")) assert.match(res.body.message, new RegExp(`no access to project ${b.project}`));
    }
    const list = await api("GET", "/projects", undefined, keys.developer.key);
    assert.deepEqual(list.body.projects.map((p: { id: string }) => p.id), [a.project], "GET /projects lists only the key's projects");
  });
});

describe("developer and ci keys", () => {
  test("a developer creates an anonymized branch and reads its status, but never the parent's credentials", async () => {
    const dev = keys.developer.key;
    const made = await api("POST", `/projects/${a.project}/branch_anonymized`, { branch_create: { branch: { name: "dev-1" } } }, dev);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    branchesMade.push(made.body.branch.id);
    const status = await api("GET", `/projects/${a.project}/branches/${made.body.branch.id}/anonymized_status`, undefined, dev);
    assert.equal(status.status, 200);
    assert.ok(["created", "initialized"].includes(status.body.state));

    for (const path of [
      `/projects/${a.project}/connection_uri?database_name=${a.db}&role_name=${a.mainRole}`,
      `/projects/${a.project}/connection_uri?branch_id=${a.main}&database_name=${a.db}&role_name=${a.mainRole}`,
      `/projects/${a.project}/branches/${a.main}/roles/${a.mainRole}/reveal_password`,
    ]) {
      const res = await api("GET", path, undefined, dev);
      assert.equal(res.status, 403, path);
      assert.match(res.body.message, /needs an admin key/);
      assert.ok(!JSON.stringify(res.body).includes("postgresql://"));
    }
    const parent = await api("GET", `/projects/${a.project}/connection_uri?database_name=${a.db}&role_name=${a.mainRole}`);
    assert.equal(parent.status, 200, "the admin may");

    const masked = await api("GET", `/projects/${a.project}/connection_uri?branch_id=${a.branch}&database_name=${a.db}&role_name=${a.role}`, undefined, dev);
    assert.equal(masked.status, 200, JSON.stringify(masked.body));
    assert.match(masked.body.uri, new RegExp(`^postgresql://${a.role}:`));
    assert.notEqual(masked.body.uri, parent.body.uri);
  });

  test("ci keys: expires_at required (422), not too far ahead (422), within the limit 201", async () => {
    const create = (expires_at?: string) =>
      api("POST", `/projects/${a.project}/branch_anonymized`, { branch_create: { branch: { expires_at } } }, keys.ci.key);
    const missing = await create();
    assert.equal(missing.status, 422);
    assert.match(missing.body.message, /expires_at: required for ci keys/);
    const far = await create(inMinutes(120));
    assert.equal(far.status, 422);
    assert.match(far.body.message, /at most 3600 s ahead/);
    const ok = await create(inMinutes(30));
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    branchesMade.push(ok.body.branch.id);
    assert.ok(ok.body.branch.expires_at);
  });
});

describe("API keys", () => {
  test("POST /api_keys refuses scopes that make no sense, with 422 naming project_ids", async () => {
    const cases = [
      { name: "x", role: "developer" },
      { name: "x", role: "ci", project_ids: [] },
      { name: "x", role: "developer", project_ids: [a.project, "gone-project-000000"] },
      { name: "x", role: "admin", project_ids: [a.project] },
    ];
    for (const body of cases) {
      const res = await api("POST", "/api_keys", body);
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.match(res.body.message, /^project_ids: /);
    }
    const bad = await api("POST", "/api_keys", { name: "x", role: "owner", project_ids: [a.project] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /role/);
  });

  test("an admin key acts as admin; GET /api_keys lists keys without tokens and records last use", async () => {
    const admin = await mint("admin");
    assert.equal((await api("GET", "/api_keys", undefined, admin.key)).status, 200);
    assert.equal((await api("DELETE", `/projects/${b.project}/trust_policies/${randomUUID()}`, undefined, admin.key)).status, 404);
    const list = await api("GET", "/api_keys");
    const mine = list.body.api_keys.find((k: { id: string }) => k.id === admin.id);
    assert.deepEqual({ role: mine.role, project_ids: mine.project_ids, revoked: mine.revoked }, { role: "admin", project_ids: null, revoked: false });
    assert.ok(mine.last_used_at, "last_used_at is set on use");
    const dev = list.body.api_keys.find((k: { id: string }) => k.id === keys.developer.id);
    assert.deepEqual(dev.project_ids, [a.project]);
    assert.ok(list.body.api_keys.every((k: Record<string, unknown>) => !("key" in k)));
  });

  test("revocation is effective on the next request", async () => {
    const key = await mint("developer", [a.project]);
    assert.equal((await api("GET", `/projects/${a.project}`, undefined, key.key)).status, 200);
    const revoked = await api("DELETE", `/api_keys/${key.id}`);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.id, key.id);
    assert.equal(revoked.body.revoked, true);
    assert.ok(revoked.body.revoked_at);
    const next = await api("GET", `/projects/${a.project}`, undefined, key.key);
    assert.equal(next.status, 401);
    assert.match(next.body.message, /was revoked/);
    assert.equal((await api("DELETE", `/api_keys/${key.id}`)).status, 200, "revoking twice answers the key");
    assert.equal((await api("DELETE", `/api_keys/${randomUUID()}`)).status, 404);
  });

  test("a key answered from memory is refused once another process revokes it", async () => {
    // Repeated use: the key's principal is served without a round trip (src/api/auth.ts, knownApiKeyPrincipal).
    const key = await mint("developer", [a.project]);
    for (let i = 0; i < 3; i++) assert.equal((await api("GET", `/projects/${a.project}`, undefined, key.key)).status, 200);
    // Revoked by another API instance: nothing in this process wrote, only the metadata database changed.
    const other = connect(h.metadataUrl, { max: 1 });
    try {
      await other`UPDATE api_keys SET revoked_at = now() WHERE id = ${key.id}`;
    } finally {
      await other.end();
    }
    const next = await waitFor(() => api("GET", `/projects/${a.project}`, undefined, key.key), (r) => r.status === 401, 5000);
    assert.match(next.body.message, /was revoked/);
  });

  test("the admin token is compared whole: the same length, one character off, or with a multi-byte character, gets 401", async () => {
    const token = h.adminToken;
    const last = token.at(-1) === "a" ? "b" : "a";
    for (const near of [`${token.slice(0, -1)}${last}`, `${token.slice(0, -1)}é`]) {
      secrets.push(near);
      const res = await api("GET", "/api_keys", undefined, near);
      assert.equal(res.status, 401, `a token of the admin token's length: ${res.status}`);
    }
    assert.equal((await api("GET", "/api_keys", undefined, token)).status, 200);
  });

  test("an expired key gets 401 saying so", async () => {
    const key = await mint("developer", [a.project], 1);
    const res = await waitFor(() => api("GET", `/projects/${a.project}`, undefined, key.key), (r) => r.status === 401, 5000);
    assert.match(res.body.message, /has expired/);
  });

  test("forged keys get 401: edited claims, another secret, alg none", async () => {
    const [head, payload, signature] = keys.developer.key.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const forged = [
      [head, b64({ ...claims, role: "admin", projects: "*" }), signature].join("."),
      await new SignJWT({ role: "admin", projects: "*" })
        .setProtectedHeader({ alg: "HS256" }).setIssuer("anonbranch").setSubject(keys.developer.id).setJti(keys.developer.id)
        .sign(randomBytes(32)),
      [b64({ alg: "none", typ: "JWT" }), b64({ ...claims, role: "admin" }), ""].join("."),
    ];
    for (const token of forged) {
      secrets.push(token);
      const res = await api("GET", "/api_keys", undefined, token);
      assert.equal(res.status, 401, token);
    }
  });

  test("creating and revoking keys is audited, without the token, outside any project", async () => {
    const events = await h.services.db.select().from(auditEvents).where(inArray(auditEvents.action, ["api_key.create", "api_key.revoke"]));
    assert.ok(events.filter((e) => e.action === "api_key.create").length >= 5);
    assert.ok(events.some((e) => e.action === "api_key.revoke"));
    assert.ok(events.every((e) => e.projectId === null && e.actorRole === "admin"));
    const policy = await h.services.db.select().from(auditEvents).where(eq(auditEvents.action, "trust_policy.create"));
    assert.equal(policy[0]?.projectId, a.project);
  });
});

test("no response body, log line or audit row ever contains a token", async () => {
  const audit = JSON.stringify(await h.services.db.select().from(auditEvents));
  assert.ok(secrets.length >= 8);
  for (const secret of secrets) {
    assert.ok(!bodies.some((b) => b.includes(secret)), "a response body contains a token");
    assert.ok(!h.logs.some((l) => l.includes(secret)), "a log line contains a token");
    assert.ok(!audit.includes(secret), "an audit row contains a token");
  }
});
