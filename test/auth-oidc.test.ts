// GitHub Actions OIDC through the real app: the test serves its own JWKS on
// 127.0.0.1 and signs GitHub-shaped tokens; trust policies decide who gets in.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { startHarness, waitFor, type Harness } from "./helpers/harness.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

type PrivateKey = Parameters<SignJWT["sign"]>[0];

const ISSUER = "https://token.actions.githubusercontent.com";
const AUDIENCE = "https://anonbranch.example.com";

let h: Harness;
let shop: ShopDatabase;
let jwks: Server;
let jwksUrl: string;
let signing: PrivateKey;
let stranger: PrivateKey;
let projectA: string;
let mainRole: string;
let projectB: string;
let shopPolicy: string;
const tokens: string[] = [];
const bodies: string[] = [];
const branchesMade: string[] = [];

async function api(method: string, path: string, body?: unknown, token?: string | null, harness = h) {
  const res = await harness.request(method, path, body, token);
  bodies.push(JSON.stringify(res.body));
  return res;
}

interface TokenOptions {
  repository?: string; ref?: string; aud?: string; iss?: string; key?: PrivateKey; alg?: string; expired?: boolean;
  repositoryId?: string; ownerId?: string; environment?: string;
}

/** A token shaped like the ones GitHub Actions issues (`id-token: write`). */
async function githubToken(o: TokenOptions = {}): Promise<string> {
  const repository = o.repository ?? "acme/shop";
  const ref = o.ref ?? "refs/heads/main";
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    repository, ref, repository_owner: repository.split("/")[0], ref_type: "branch", event_name: "pull_request", workflow: "preview",
    repository_id: o.repositoryId ?? "1001", repository_owner_id: o.ownerId ?? "501",
    ...(o.environment ? { environment: o.environment } : {}),
  })
    .setProtectedHeader({ alg: o.alg ?? "RS256", kid: "gh-1", typ: "JWT" })
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setSubject(`repo:${repository}:ref:${ref}`)
    .setIssuedAt(o.expired ? now - 900 : now)
    .setExpirationTime(o.expired ? now - 300 : now + 300)
    .sign(o.key ?? signing);
  tokens.push(token);
  return token;
}

before(async () => {
  const pair = await generateKeyPair("RS256");
  signing = pair.privateKey;
  stranger = (await generateKeyPair("RS256")).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "gh-1", alg: "RS256", use: "sig" };
  jwks = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks`;

  shop = await createShop(100, "oidcshop");
  h = await startHarness({ oidcJwksUrl: jwksUrl });
  const a = await h.registerProject([shop.name], "a");
  projectA = a.projectId;
  mainRole = (await h.request("GET", `/projects/${projectA}/branches/${a.defaultBranchId}/roles`)).body.roles[0].name;
  projectB = (await h.registerProject([shop.name], "b")).projectId;
});

after(async () => {
  for (const id of branchesMade) {
    await waitFor(async () => (await h.request("GET", `/projects/${projectA}/branches/${id}/anonymized_status`)).body.state, (s) => s !== "created");
  }
  await h?.close();
  await shop?.drop();
  jwks?.close();
});

describe("trust policies", () => {
  test("admins create them (issuer defaults to GitHub's), list and audit them", async () => {
    const ci = await api("POST", `/projects/${projectA}/trust_policies`, { audience: AUDIENCE, repository: "acme/shop", ref: "refs/heads/main" });
    assert.equal(ci.status, 201, JSON.stringify(ci.body));
    assert.deepEqual(
      { issuer: ci.body.trust_policy.issuer, role: ci.body.trust_policy.role, ref: ci.body.trust_policy.ref },
      { issuer: ISSUER, role: "ci", ref: "refs/heads/main" },
    );
    shopPolicy = ci.body.trust_policy.id;
    const dev = await api("POST", `/projects/${projectA}/trust_policies`, { audience: AUDIENCE, repository: "acme/web", role: "developer" });
    assert.equal(dev.status, 201, JSON.stringify(dev.body));
    assert.equal(dev.body.trust_policy.ref, null);

    const list = await api("GET", `/projects/${projectA}/trust_policies`);
    assert.deepEqual(list.body.trust_policies.map((p: { repository: string }) => p.repository), ["acme/shop", "acme/web"]);
    const none = await api("GET", `/projects/${projectB}/trust_policies`);
    assert.deepEqual(none.body.trust_policies, []);
    const log = await api("GET", `/projects/${projectA}/audit_log`);
    assert.equal(log.body.events.filter((e: { action: string }) => e.action === "trust_policy.create").length, 2);
  });

  test("bad policies are refused naming the field", async () => {
    const ref = await api("POST", `/projects/${projectA}/trust_policies`, { audience: AUDIENCE, repository: "acme/shop", ref: "main" });
    assert.equal(ref.status, 400);
    assert.match(ref.body.message, /^ref: must be a full ref/);
    const repo = await api("POST", `/projects/${projectA}/trust_policies`, { audience: AUDIENCE, repository: "acme" });
    assert.equal(repo.status, 400);
    assert.match(repo.body.message, /^repository: /);
    const issuer = await api("POST", `/projects/${projectA}/trust_policies`, { issuer: "https://gitlab.example.com", audience: AUDIENCE, repository: "acme/shop" });
    assert.equal(issuer.status, 422);
    assert.match(issuer.body.message, /^issuer: this server trusts OIDC tokens from https:\/\/token\.actions\.githubusercontent\.com only/);
    const missing = await api("DELETE", `/projects/${projectA}/trust_policies/${randomUUID()}`);
    assert.equal(missing.status, 404);
  });
});

describe("GitHub Actions OIDC tokens", () => {
  test("a token matching a ci policy acts as ci, in that policy's project only", async () => {
    const token = await githubToken();
    const list = await api("GET", "/projects", undefined, token);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.projects.map((p: { id: string }) => p.id), [projectA]);
    assert.equal((await api("GET", `/projects/${projectB}`, undefined, token)).status, 403);
    const admin = await api("POST", "/api_keys", { name: "x", role: "admin" }, token);
    assert.equal(admin.status, 403);
    assert.match(admin.body.message, /github:acme\/shop is ci/);

    const create = (expires_at?: string) =>
      api("POST", `/projects/${projectA}/branch_anonymized`, { branch_create: { branch: { expires_at } } }, token);
    const noExpiry = await create();
    assert.equal(noExpiry.status, 422, "ci: expires_at is required");
    const made = await create(new Date(Date.now() + 600_000).toISOString());
    assert.equal(made.status, 201, JSON.stringify(made.body));
    branchesMade.push(made.body.branch.id);
  });

  test("a token matching a developer policy (any ref) acts as developer, and the audit log names it", async () => {
    const token = await githubToken({ repository: "acme/web", ref: "refs/heads/feature" });
    const made = await api("POST", `/projects/${projectA}/branch_anonymized`, { branch_create: { branch: { name: "web-preview" } } }, token);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    branchesMade.push(made.body.branch.id);
    const log = await api("GET", `/projects/${projectA}/audit_log`);
    const event = log.body.events.find((e: { action: string; branch_id?: string }) => e.action === "branch.create" && e.branch_id === made.body.branch.id);
    assert.deepEqual(event.actor, { id: "oidc:acme/web@refs/heads/feature", name: "github:acme/web", role: "developer" });
    const parent = await api("GET", `/projects/${projectA}/connection_uri?database_name=${shop.name}&role_name=${mainRole}`, undefined, token);
    assert.equal(parent.status, 403, "never the parent's credentials");
  });

  test("wrong repository or ref → 403 naming the repository", async () => {
    const repo = await api("GET", "/projects", undefined, await githubToken({ repository: "acme/other" }));
    assert.equal(repo.status, 403);
    assert.equal(repo.body.code, "FORBIDDEN");
    assert.match(repo.body.message, /no trust policy admits repository acme\/other/);
    const ref = await api("GET", "/projects", undefined, await githubToken({ ref: "refs/heads/dev" }));
    assert.equal(ref.status, 403);
    assert.match(ref.body.message, /acme\/shop \(repository_id 1001\) at refs\/heads\/dev/);
  });

  test("wrong audience, wrong issuer, another signing key, expired → 401 saying which", async () => {
    const cases: [TokenOptions, RegExp][] = [
      [{ aud: "https://elsewhere.example.com" }, /audience \(https:\/\/elsewhere\.example\.com\) is not accepted/],
      [{ iss: "https://issuer.example.com" }, /"iss" claim/],
      [{ key: stranger }, /signature does not verify/],
      [{ expired: true }, /has expired/],
    ];
    for (const [options, message] of cases) {
      const res = await api("GET", "/projects", undefined, await githubToken(options));
      assert.equal(res.status, 401, JSON.stringify(options));
      assert.equal(res.body.code, "UNAUTHORIZED");
      assert.match(res.body.message, message);
    }
  });

  test("a symmetric token that is not one of our keys → 401, never checked against the JWKS", async () => {
    const token = await githubToken({ alg: "HS256", key: randomBytes(32) });
    const res = await api("GET", "/projects", undefined, token);
    assert.equal(res.status, 401);
  });

  test("deleting a policy refuses its tokens from the next request on", async () => {
    const token = await githubToken();
    assert.equal((await api("GET", "/projects", undefined, token)).status, 200);
    const del = await api("DELETE", `/projects/${projectA}/trust_policies/${shopPolicy}`);
    assert.equal(del.status, 200);
    assert.equal(del.body.trust_policy.id, shopPolicy);
    assert.equal((await api("GET", "/projects", undefined, token)).status, 403);
    const log = await api("GET", `/projects/${projectA}/audit_log`);
    assert.ok(log.body.events.some((e: { action: string }) => e.action === "trust_policy.delete"));
  });
});

describe("policies pinned to immutable ids", () => {
  test("a policy on a name alone says so; a token whose repository_id differs from the pinned one is refused", async () => {
    const loose = await api("POST", `/projects/${projectB}/trust_policies`, { audience: AUDIENCE, repository: "acme/reborn", role: "developer" });
    assert.equal(loose.status, 201, JSON.stringify(loose.body));
    assert.equal(loose.body.trust_policy.trusts_name_only, true);
    assert.match(loose.body.trust_policy.warning, /trusts the repository name acme\/reborn alone.*pin repository_id/);
    const del = await api("DELETE", `/projects/${projectB}/trust_policies/${loose.body.trust_policy.id}`);
    assert.equal(del.status, 200);

    const pinned = await api("POST", `/projects/${projectB}/trust_policies`, {
      audience: AUDIENCE, repository: "acme/reborn", repository_id: "4242", repository_owner_id: "77", environment: "preview", role: "developer",
    });
    assert.equal(pinned.status, 201, JSON.stringify(pinned.body));
    assert.equal(pinned.body.trust_policy.trusts_name_only, false);
    assert.equal(pinned.body.trust_policy.warning, undefined);

    // The original repository, from its own workflows: admitted.
    const genuine = await githubToken({ repository: "acme/reborn", repositoryId: "4242", ownerId: "77", environment: "preview" });
    const ok = await api("GET", `/projects/${projectB}`, undefined, genuine);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    // Same name, registered again by someone else (new ids): refused.
    const impostor = await githubToken({ repository: "acme/reborn", repositoryId: "9999", ownerId: "77", environment: "preview" });
    const refused = await api("GET", `/projects/${projectB}`, undefined, impostor);
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /no trust policy admits repository acme\/reborn \(repository_id 9999\)/);
    const otherOwner = await githubToken({ repository: "acme/reborn", repositoryId: "4242", ownerId: "78", environment: "preview" });
    assert.equal((await api("GET", `/projects/${projectB}`, undefined, otherOwner)).status, 403);
    const otherEnv = await githubToken({ repository: "acme/reborn", repositoryId: "4242", ownerId: "77", environment: "prod" });
    assert.equal((await api("GET", `/projects/${projectB}`, undefined, otherEnv)).status, 403);
    const bad = await api("POST", `/projects/${projectB}/trust_policies`, { audience: AUDIENCE, repository: "acme/x", repository_id: "abc" });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /^repository_id: must be the repository's numeric id/);
  });
});

describe("OIDC misconfigured or unreachable", () => {
  test("no JWKS URL → 401 'OIDC is not configured'; an unreachable JWKS → 503", async () => {
    const bare = await startHarness({ worker: false });
    const dead = await startHarness({ worker: false, oidcJwksUrl: "http://127.0.0.1:9/jwks" });
    try {
      const token = await githubToken();
      const off = await api("GET", "/projects", undefined, token, bare);
      assert.equal(off.status, 401);
      assert.match(off.body.message, /OIDC is not configured/);
      const down = await api("GET", "/projects", undefined, token, dead);
      assert.equal(down.status, 503);
      assert.equal(down.body.code, "OIDC_UNAVAILABLE");
      assert.ok(!dead.logs.some((l) => l.includes(token)));
    } finally {
      await bare.close();
      await dead.close();
    }
  });
});

test("no response body or log line ever contains a token", () => {
  assert.ok(tokens.length >= 10);
  for (const token of tokens) {
    assert.ok(!bodies.some((b) => b.includes(token)), "a response body contains a token");
    assert.ok(!h.logs.some((l) => l.includes(token)), "a log line contains a token");
  }
});
