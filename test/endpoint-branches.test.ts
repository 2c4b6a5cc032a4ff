// Branch endpoints (issue 10), from a client's and from an attacker's side:
// Neon's create-branch-action call sequence works unmodified and gets the
// state error until the branch is anonymized; every credential a developer
// key can obtain opens that branch's own database through its endpoint, and
// nothing else on the server, directly or through any endpoint; neonctl
// (delete-branch-action) deletes branches.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { createApiClient, EndpointType } from "@neondatabase/api-client";
import postgres from "postgres";
import { branchCredentials, connectAsUser } from "./helpers/branch-user.ts";
import { serveHarness, type ServedApp } from "./helpers/cli.ts";
import { startHarness, waitFor, type Harness, type MintedKey } from "./helpers/harness.ts";
import { connect, connectWithPassword, testServerUrl, type Sql } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;
let admin: Sql;
let api: ServedApp;
let projectId: string;
let dev: MintedKey;

const rules = () => [
  { database_name: shop.name, schema_name: "public", table_name: "users", column_name: "email", masking_function: "pg_catalog.concat(pg_catalog.md5(email), '@example.com')" },
  { database_name: shop.name, schema_name: "public", table_name: "users", column_name: "name", masking_value: "'X'" },
];
const status = async (branchId: string) =>
  (await h.request("GET", `/projects/${projectId}/branches/${branchId}/anonymized_status`)).body as { state: string; status_message: string };

type Attempt = { ok: true } | { ok: false; code: string; message: string };

async function attempt(client: Sql): Promise<Attempt> {
  try {
    await client`SELECT 1`;
    return { ok: true };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { ok: false, code: e.code ?? "?", message: e.message ?? String(error) };
  } finally {
    await client.end({ timeout: 1 });
  }
}

before(async () => {
  shop = await createShop(200, "endpoint");
  admin = connect(testServerUrl(), { max: 1 });
  h = await startHarness();
  projectId = (await h.registerProject([shop.name], "endpoints", rules())).projectId;
  dev = await h.mintKey({ role: "developer", projects: [projectId] });
  api = await serveHarness(h);
});

after(async () => {
  await api?.close();
  await h?.close();
  await shop?.drop();
  await admin?.end();
});

describe("Neon's create-branch-action against anonbranch", () => {
  test("its exact call sequence, default role input and sslmode=require: the state error until anonymized, then masked rows", async () => {
    // A session on the parent holds the clone back (it waits, never terminates it),
    // so the action's first connection deterministically meets a branch not yet masked.
    const holder = connect(shop.url, { max: 1 });
    await holder`SELECT 1`;
    after(() => holder.end());
    // What src/branch.ts of neondatabase/create-branch-action does with masking_rules set.
    const client = createApiClient({ apiKey: dev.key, baseURL: `${api.url}/api/v2`, timeout: 10_000 });
    const created = await client.createProjectBranchAnonymized(projectId, {
      branch_create: {
        branch: { name: "preview/pr-7", expires_at: new Date(Date.now() + 3600_000).toISOString() },
        endpoints: [{ type: EndpointType.ReadWrite, suspend_timeout_seconds: 0 }],
      },
      masking_rules: rules(),
      start_anonymization: true,
      annotation_value: { "github-commit-repo": "acme/shop", "github-pr-number": "7" },
    });
    const branchId = created.data.branch.id;
    const endpoints = await client.listProjectBranchEndpoints(projectId, branchId);
    const endpoint = endpoints.data.endpoints[0]!;
    const database = shop.name; // the action's `database` input
    const role = "neondb_owner"; // the action's default `role` input
    await client.getProjectBranchDatabase(projectId, branchId, database);
    await client.getProjectBranchRole(projectId, branchId, role);
    const password = (await client.getProjectBranchRolePassword(projectId, branchId, role)).data.password;
    const url = new URL(`postgresql://${endpoint.host}`);
    url.pathname = database;
    url.username = role;
    url.password = password;
    url.searchParams.set("sslmode", "require");
    const dbUrl = url.toString();
    assert.match(endpoint.host, /^127\.0\.0\.1:\d+$/);

    // Right away (the action never polls): the endpoint answers, and refuses with the state and progress.
    const early = await attempt(postgres(dbUrl, { max: 1, onnotice: () => {} }));
    await holder.end();
    assert.equal(early.ok, false);
    assert.equal((early as { code: string }).code, "57P03");
    assert.match((early as { message: string }).message, new RegExp(`branch ${branchId} is not anonymized yet \\(created\\): \\S`));
    const final = await waitFor(() => status(branchId), (s) => ["anonymized", "error"].includes(s.state), 60_000);
    assert.equal(final.state, "anonymized", final.status_message);
    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    try {
      const names = await sql`SELECT DISTINCT name FROM users`;
      assert.deepEqual(names.map((r) => r.name), ["X"]);
      const [leaked] = await sql`SELECT count(*)::int AS n FROM users WHERE email LIKE '%@shop.example'`;
      assert.equal(leaked!.n, 0);
    } finally {
      await sql.end();
    }
  });
});

describe("nothing but the branch opens", () => {
  test("every database on the server, directly and through every endpoint, with every credential a developer key obtains", async () => {
    const mine = await makeBranch("mine");
    const other = await makeBranch("other");
    const user = await branchCredentials(h, projectId, mine, dev.key);
    // What the branch user can also learn from inside: the physical names.
    const inside = connectAsUser(user);
    const [names] = (await inside`SELECT session_user AS session, current_user AS current, current_database() AS db`) as unknown as [
      { session: string; current: string; db: string },
    ];
    await inside.end();
    const roles = [user.role, names.session, names.current, names.current.replace(/_owner$/, "_mask")];
    const databases = (await admin`SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1`).map((r) => r.datname as string);
    assert.ok(databases.length >= 5, `the server has several databases: ${databases.join(", ")}`);
    const myEndpoint = new URL(user.uri);
    const otherEndpoint = new URL((await branchCredentials(h, projectId, other, dev.key)).uri);

    const opened: string[] = [];
    let tried = 0;
    const record = async (label: string, client: Sql) => {
      tried += 1;
      const result = await attempt(client);
      if (result.ok) opened.push(label);
    };
    for (const database of new Set([...databases, user.database])) {
      for (const role of roles) {
        const direct = new URL(testServerUrl(database));
        direct.username = role;
        direct.password = user.password;
        await record(`direct tcp ${role}@${database}`, connect(direct.toString(), { max: 1, connect_timeout: 5 }));
        await record(`direct socket ${role}@${database}`, connectWithPassword(direct.toString()));
        for (const [which, endpoint] of [["own", myEndpoint], ["other", otherEndpoint]] as const) {
          const through = new URL(endpoint);
          through.pathname = `/${database}`;
          through.username = role;
          through.password = user.password;
          await record(`${which} endpoint ${role}@${database}`, postgres(through.toString(), { max: 1, onnotice: () => {}, connect_timeout: 5 }));
        }
      }
    }
    // The one door that must open: the branch's own database, its own endpoint, its logical role.
    assert.deepEqual(opened, [`own endpoint ${user.role}@${user.database}`], `tried ${tried}`);
  });
});

describe("neonctl@2.22.0 (delete-branch-action@v3)", () => {
  test("branches delete <name> --project-id … with NEON_API_KEY/NEON_API_HOST removes the branch", async () => {
    const id = await makeBranch("pr-delete-me");
    const result = await new Promise<{ code: number; out: string }>((resolve) => {
      const child = spawn(process.execPath, ["node_modules/.bin/neonctl", "branches", "delete", "pr-delete-me", "--project-id", projectId], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, NEON_API_KEY: dev.key, NEON_API_HOST: `${api.url}/api/v2`, CI: "true" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      child.on("close", (code) => resolve({ code: code ?? -1, out }));
    });
    assert.equal(result.code, 0, result.out);
    const gone = await h.request("GET", `/projects/${projectId}/branches/${id}`);
    assert.equal(gone.status, 404);
    const dropped = await waitFor(
      async () => (await admin`SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE ${`${id.replaceAll("-", "_")}%`}`)[0]!.n as number,
      (n) => n === 0,
    );
    assert.equal(dropped, 0);
  });
});

async function makeBranch(name: string): Promise<string> {
  const res = await h.request("POST", `/projects/${projectId}/branch_anonymized`, {
    branch_create: { branch: { name } }, start_anonymization: true,
  }, dev.key);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const id = res.body.branch.id as string;
  const final = await waitFor(() => status(id), (s) => ["anonymized", "error"].includes(s.state), 60_000);
  assert.equal(final.state, "anonymized", final.status_message);
  return id;
}
