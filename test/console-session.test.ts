// Console sessions over real HTTP: sign-in with a key, the cookie's
// attributes, sign-out, revoked keys, and the CSRF defences of every form
// (per-session token, same origin), which refuse without changing anything.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ConsoleClient, hiddenValue, serveHarness, textOf, type Served } from "./helpers/console.ts";
import { startHarness, waitFor, type Harness, type MintedKey } from "./helpers/harness.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;
let served: Served;
let projectId: string;
let dev: MintedKey;
const created: string[] = [];

before(async () => {
  shop = await createShop(100, "csshop");
  h = await startHarness();
  ({ projectId } = await h.registerProject([shop.name], "session-shop"));
  dev = await h.mintKey({ role: "developer", projects: [projectId] });
  served = await serveHarness(h);
});

after(async () => {
  for (const id of created) {
    await waitFor(() => h.request("GET", `/projects/${projectId}/branches/${id}/anonymized_status`), (r) => ["anonymized", "error", "initialization_error"].includes(r.body.state));
  }
  await served?.close();
  await h?.close();
  await shop?.drop();
});

const client = () => new ConsoleClient(served.origin);
const sessionCookie = (c: ConsoleClient) => c.setCookies.filter((l) => l.startsWith("anonbranch_session="));
const branchCount = async () => (await h.request("GET", `/projects/${projectId}/branches`)).body.branches.length as number;

describe("signing in", () => {
  test("pages need a session: the browser is sent to sign in, with the page to come back to", async () => {
    const c = client();
    const res = await c.get("/console/projects");
    assert.equal(res.status, 303);
    assert.equal(res.location, "/console/sign-in?next=%2Fconsole%2Fprojects&reason=required");
    const form = await c.get(res.location!);
    assert.equal(form.status, 200);
    assert.match(textOf(form.text), /Sign in to continue\./);
    assert.match(form.text, /<label for="token">API key or admin token<\/label>/);
    assert.equal(hiddenValue(form.text, "next"), "/console/projects");
    // The client script's JSON calls get the API's envelope instead of a sign-in page.
    const json = await c.get(`/console/projects/${projectId}/masking`, { accept: "application/json" });
    assert.equal(json.status, 401);
    assert.equal(JSON.parse(json.text).code, "UNAUTHORIZED");
  });

  test("a wrong token gets 401 with the API's reason, and no session", async () => {
    const c = client();
    const form = await c.get("/console/sign-in");
    const garbage = "not-a-real-key-0123456789";
    const res = await c.post("/console/sign-in", { _csrf: hiddenValue(form.text, "_csrf"), token: garbage });
    assert.equal(res.status, 401);
    assert.match(textOf(res.text), /Not signed in: the bearer token is not valid: it is neither the admin token nor a signed JWT/);
    assert.ok(!res.text.includes(garbage), "the token is not echoed back");
    assert.deepEqual(sessionCookie(c), []);
  });

  test("the token is kept in an HttpOnly, SameSite=Strict cookie scoped to /console; Secure behind https", async () => {
    const c = client();
    await c.signIn(dev.key);
    const [cookie] = sessionCookie(c);
    assert.ok(cookie, "a session cookie was set");
    assert.match(cookie, /; HttpOnly/i);
    assert.match(cookie, /; SameSite=Strict/i);
    assert.match(cookie, /; Path=\/console/i);
    assert.doesNotMatch(cookie, /; Secure/i, "not over plain http, or the browser would drop it");
    const page = await c.get("/console/projects");
    assert.equal(page.status, 200);
    assert.match(textOf(page.text), new RegExp(`Signed in as ${dev.name} \\(developer\\)`));

    const tls = client();
    const form = await tls.get("/console/sign-in", { "x-forwarded-proto": "https" });
    await tls.post("/console/sign-in", { _csrf: hiddenValue(form.text, "_csrf"), token: dev.key }, { "x-forwarded-proto": "https" });
    assert.match(sessionCookie(tls)[0] ?? "", /; Secure/i);
  });

  test("the sign-in form refuses a missing form token and a foreign origin", async () => {
    const c = client();
    const form = await c.get("/console/sign-in");
    const missing = await c.post("/console/sign-in", { token: dev.key });
    assert.equal(missing.status, 403);
    const foreign = await c.post("/console/sign-in", { _csrf: hiddenValue(form.text, "_csrf"), token: dev.key }, { origin: "https://evil.example" });
    assert.equal(foreign.status, 403);
    assert.match(foreign.text, /cross-origin request refused/);
    assert.deepEqual(sessionCookie(c), []);
  });

  test("after signing in, the browser goes back where it was, but never off the console", async () => {
    for (const [next, expected] of [
      [`/console/projects/${projectId}`, `/console/projects/${projectId}`],
      ["https://evil.example/", "/console/projects"],
      ["//evil.example/console/", "/console/projects"],
      ["/console/../api/v2/api_keys", "/console/projects"],
    ] as const) {
      const c = client();
      const form = await c.get("/console/sign-in");
      const res = await c.post("/console/sign-in", { _csrf: hiddenValue(form.text, "_csrf"), token: dev.key, next });
      assert.equal(res.status, 303);
      assert.equal(res.location, expected, next);
    }
  });

  test("signing out needs the session's CSRF token, then ends the session", async () => {
    const c = client();
    const csrf = await c.signIn(dev.key);
    assert.equal((await c.post("/console/sign-out", {})).status, 403);
    const out = await c.post("/console/sign-out", { _csrf: csrf });
    assert.equal(out.status, 303);
    assert.equal(out.location, "/console/sign-in?reason=signed-out");
    assert.match(sessionCookie(c).at(-1)!, /Max-Age=0/i);
    assert.equal((await c.get("/console/projects")).status, 303);
  });

  test("a revoked key's session ends at its next request", async () => {
    const key = await h.mintKey({ role: "developer", projects: [projectId] });
    const c = client();
    await c.signIn(key.key);
    assert.equal((await c.get("/console/projects")).status, 200);
    assert.equal((await h.request("DELETE", `/api_keys/${key.id}`)).status, 200);
    const res = await c.get("/console/projects");
    assert.equal(res.status, 303);
    assert.equal(res.location, "/console/sign-in?next=%2Fconsole%2Fprojects&reason=expired");
  });
});

describe("CSRF defences", () => {
  test("a form post without this session's token, or from another origin, is refused and changes nothing", async () => {
    const admin = client();
    const csrf = await admin.signIn(h.adminToken);
    const other = await client().signIn(dev.key);
    const path = `/console/projects/${projectId}/branches`;
    const form = { name: "csrf-probe", expires_in: "", start_anonymization: "1" };
    const before = await branchCount();
    const cases: [string, Record<string, string>, Record<string, string>][] = [
      ["no token", form, {}],
      ["another session's token", { ...form, _csrf: other }, {}],
      ["a foreign origin", { ...form, _csrf: csrf }, { origin: "https://evil.example" }],
      ["a null origin", { ...form, _csrf: csrf }, { origin: "null" }],
      ["neither Origin nor Referer", { ...form, _csrf: csrf }, { origin: "" }],
    ];
    for (const [what, body, headers] of cases) {
      const res = await admin.post(path, body, headers);
      assert.equal(res.status, 403, what);
    }
    assert.equal(await branchCount(), before, "no branch was created");

    const ok = await admin.post(path, { ...form, _csrf: csrf });
    assert.equal(ok.status, 303, ok.text.slice(0, 500));
    const list = await h.request("GET", `/projects/${projectId}/branches?search=csrf-probe`);
    assert.equal(list.body.branches.length, 1);
    created.push(list.body.branches[0].id);
  });

  test("the live-validation endpoint wants the token in X-CSRF-Token", async () => {
    const c = client();
    const csrf = await c.signIn(dev.key);
    const path = `/console/projects/${projectId}/masking/validate`;
    const body = { masking_rules: [] };
    assert.equal((await c.request("POST", path, { json: body })).status, 403);
    assert.equal((await c.request("POST", path, { json: body, headers: { "x-csrf-token": csrf } })).status, 200);
    // Behind a proxy that rewrites Host, the public host it forwards is this origin too.
    const proxied = { "x-csrf-token": csrf, origin: "https://console.example.com" };
    assert.equal((await c.request("POST", path, { json: body, headers: proxied })).status, 403);
    assert.equal((await c.request("POST", path, { json: body, headers: { ...proxied, "x-forwarded-host": "console.example.com" } })).status, 200);
  });
});

describe("responses", () => {
  test("pages forbid framing and foreign scripts and are not cached; assets are cached for good", async () => {
    const c = client();
    await c.signIn(dev.key);
    const res = await c.get("/console/projects");
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get("x-frame-options"), "DENY");
    assert.equal(res.headers.get("cache-control"), "no-store");
    const script = /<script src="([^"]+)"/.exec(res.text)![1]!;
    const asset = await c.get(script);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.match(asset.headers.get("cache-control") ?? "", /immutable/);
  });

  test("an unknown console page is an HTML 404, not the API's JSON", async () => {
    const c = client();
    await c.signIn(dev.key);
    const res = await c.get("/console/no-such-page");
    assert.equal(res.status, 404);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    assert.match(textOf(res.text), /no console page at \/console\/no-such-page/);
  });
});

test("no log line contains a token used to sign in or carried in a session cookie", () => {
  assert.ok(h.logs.some((l) => l.includes("/console/sign-in")), "console requests are logged");
  for (const secret of [dev.key, h.adminToken]) {
    assert.ok(!h.logs.some((l) => l.includes(secret)), "a log line contains a token");
  }
});
