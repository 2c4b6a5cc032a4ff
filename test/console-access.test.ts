// What the console lets a key do is what the API lets it do: each console page
// or action is paired with the API call it stands for and must answer the same
// status and message. Also: the dry-run validation endpoint, applying rules
// without JavaScript, and valid HTML on every page for admin and developer.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ConsoleClient, decodeEntities, htmlProblems, serveHarness, textOf, type Served } from "./helpers/console.ts";
import { startHarness, waitFor, type Harness, type MintedKey } from "./helpers/harness.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;
let served: Served;
let dev: MintedKey;
const a = { project: "", main: "", branch: "" };
const b = { project: "", main: "" };
let admin: ConsoleClient;
let adminCsrf: string;
let developer: ConsoleClient;
let devCsrf: string;

const emailRule = () => ({
  database_name: shop.name, schema_name: "public", table_name: "users", column_name: "email",
  masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')",
});
const phoneRule = (masking_function: string) => ({ ...emailRule(), column_name: "phone", masking_function });
const HOSTILE = "pg_catalog.pg_read_file('/etc/passwd')";
const anonState = async (branch: string) => (await h.request("GET", `/projects/${a.project}/branches/${branch}/anonymized_status`)).body.state as string;
/** The API's dry-run validation of the anonymized branch's rules. */
const path = () => `/projects/${a.project}/branches/${a.branch}/masking_rules/validate`;
/** Branches here are all created with start_anonymization: they pass "initialized" on the way. */
const settled = (branch: string) => waitFor(() => anonState(branch), (s) => ["anonymized", "error", "initialization_error"].includes(s));

before(async () => {
  shop = await createShop(200, "cashop");
  h = await startHarness();
  ({ projectId: a.project, defaultBranchId: a.main } = await h.registerProject([shop.name], "shop-a"));
  ({ projectId: b.project, defaultBranchId: b.main } = await h.registerProject([shop.name], "shop-b"));
  const made = await h.request("POST", `/projects/${a.project}/branch_anonymized`, {
    branch_create: { branch: { name: "masked" } }, start_anonymization: true,
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  a.branch = made.body.branch.id;
  assert.equal(await settled(a.branch), "anonymized");
  dev = await h.mintKey({ role: "developer", projects: [a.project] });
  served = await serveHarness(h);
  admin = new ConsoleClient(served.origin);
  adminCsrf = await admin.signIn(h.adminToken);
  developer = new ConsoleClient(served.origin);
  devCsrf = await developer.signIn(dev.key);
});

after(async () => {
  await settled(a.branch);
  await served?.close();
  await h?.close();
  await shop?.drop();
});

/** The fields a browser would submit from the page's masking form, as it is shown. */
function formFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields[m[1]!] = decodeEntities(m[2]!);
  for (const m of html.matchAll(/<select id="[^"]+" name="([^"]+)"[^>]*>([\s\S]*?)<\/select>/g)) {
    const selected = /<option value="([^"]*)"[^>]*selected=""/.exec(m[2]!) ?? /<option value="([^"]*)"/.exec(m[2]!);
    fields[m[1]!] = decodeEntities(selected![1]!);
  }
  return fields;
}

/** The row number of a column in a masking form. */
function rowOf(fields: Record<string, string>, table: string, column: string): string {
  const entry = Object.entries(fields).find(([k, v]) => k.startsWith("col.") && v === JSON.stringify([shop.name, "public", table, column]));
  assert.ok(entry, `no row for ${table}.${column}`);
  return entry[0].slice(4);
}

describe("a developer key in the console can do exactly what the API lets it", () => {
  test("the same refusals, statuses and messages as the API, page by page and action by action", async () => {
    const rulesForm = async () => ({ ...formFields((await admin.get(`/console/projects/${a.project}/masking`)).text), _csrf: devCsrf });
    const pairs: { what: string; page: () => ReturnType<ConsoleClient["get"]>; api: [string, string, unknown?] }[] = [
      { what: "another project's page", page: () => developer.get(`/console/projects/${b.project}`), api: ["GET", `/projects/${b.project}`] },
      { what: "another project's rules", page: () => developer.get(`/console/projects/${b.project}/masking`), api: ["GET", `/projects/${b.project}/masking_rules`] },
      { what: "another project's branch", page: () => developer.get(`/console/projects/${b.project}/branches/${b.main}/masking`), api: ["GET", `/projects/${b.project}/branches/${b.main}/masking_rules`] },
      { what: "a branch in another project", page: () => developer.post(`/console/projects/${b.project}/branches`, { _csrf: devCsrf, name: "x", expires_in: "" }), api: ["POST", `/projects/${b.project}/branch_anonymized`, { branch_create: { branch: { name: "x" } } }] },
      { what: "the audit log", page: () => developer.get(`/console/projects/${a.project}/audit`), api: ["GET", `/projects/${a.project}/audit_log`] },
      { what: "saving the project's rules", page: async () => developer.post(`/console/projects/${a.project}/masking`, await rulesForm()), api: ["PUT", `/projects/${a.project}/masking_rules`, { masking_rules: [emailRule()] }] },
      { what: "deleting the default branch", page: () => developer.post(`/console/projects/${a.project}/branches/${a.main}/delete`, { _csrf: devCsrf }), api: ["DELETE", `/projects/${a.project}/branches/${a.main}`] },
      { what: "resetting the default branch", page: () => developer.post(`/console/projects/${a.project}/branches/${a.main}/reset`, { _csrf: devCsrf }), api: ["POST", `/projects/${a.project}/branches/${a.main}/reset_to_parent`] },
      { what: "masking the default branch", page: () => developer.get(`/console/projects/${a.project}/branches/${a.main}/masking`), api: ["GET", `/projects/${a.project}/branches/${a.main}/masking_rules`] },
    ];
    for (const { what, page, api } of pairs) {
      const viaApi = await h.request(api[0], api[1], api[2], dev.key);
      const viaConsole = await page();
      assert.ok(viaApi.status >= 400, `${what}: the API allows it (${viaApi.status})`);
      assert.equal(viaConsole.status, viaApi.status, `${what}: console ${viaConsole.status}, API ${viaApi.status}`);
      assert.ok(textOf(viaConsole.text).includes(viaApi.body.message), `${what}: the page does not show "${viaApi.body.message}"`);
    }
    assert.deepEqual((await h.request("GET", `/projects/${a.project}/masking_rules`)).body.masking_rules, [emailRule()], "project rules unchanged");
  });

  test("it sees only its project, no audit link, no delete or reset of the default branch, read-only project rules", async () => {
    const list = textOf((await developer.get("/console/projects")).text);
    assert.ok(list.includes(a.project));
    assert.ok(!list.includes(b.project) && !list.includes("shop-b"), "the other project is invisible");
    const project = await developer.get(`/console/projects/${a.project}`);
    assert.ok(!project.text.includes(`/console/projects/${a.project}/audit`), "no audit log link");
    assert.ok(!project.text.includes(`/branches/${a.main}/delete`) && !project.text.includes(`/branches/${a.main}/reset`));
    assert.ok(project.text.includes(`/branches/${a.branch}/delete`), "it may delete its anonymized branch");
    const rules = await developer.get(`/console/projects/${a.project}/masking`);
    assert.equal(rules.status, 200);
    assert.doesNotMatch(rules.text, /<form method="post" action="[^"]*\/masking"/, "no form to change them");
    assert.match(textOf(rules.text), /Only an admin can change them\./);
    const adminProject = await admin.get(`/console/projects/${a.project}`);
    assert.ok(adminProject.text.includes(`/console/projects/${a.project}/audit`), "the admin has the link");
  });

  test("on a branch, the project's rules are fixed for it; a forged form without them is refused like the API refuses it", async () => {
    const page = await developer.get(`/console/projects/${a.project}/branches/${a.branch}/masking`);
    const fields = formFields(page.text);
    const email = rowOf(fields, "users", "email");
    assert.equal(fields[`fn.${email}`], "custom_function", "carried as a hidden field, not a picker");
    assert.doesNotMatch(page.text, new RegExp(`<select[^>]*name="fn\\.${email}"`));
    assert.match(textOf(page.text), /Set by the project's rules: Random unique email/);

    const forged: Record<string, string> = { ...fields, _csrf: devCsrf };
    delete forged[`col.${email}`];
    const refused = await developer.post(`/console/projects/${a.project}/branches/${a.branch}/masking`, forged);
    const api = await h.request("PATCH", `/projects/${a.project}/branches/${a.branch}/masking_rules`, { masking_rules: [] }, dev.key);
    assert.equal(api.status, 403);
    assert.equal(refused.status, 403);
    assert.ok(textOf(refused.text).includes(api.body.message), api.body.message);
  });
});

describe("dry-run validation", () => {
  test("the API answers 200 for valid rules and PATCH's own 422 for refused ones, storing nothing", async () => {
    const good = await h.request("POST", path(), { masking_rules: [emailRule(), phoneRule("anon.partial(phone, 2, 'XXX', 2)")] }, dev.key);
    assert.deepEqual([good.status, good.body], [200, { valid: true }]);
    const before = (await h.request("GET", `/projects/${a.project}/branches/${a.branch}/masking_rules`)).body;
    const rules = { masking_rules: [emailRule(), phoneRule(HOSTILE)] };
    const dry = await h.request("POST", path(), rules);
    const patch = await h.request("PATCH", `/projects/${a.project}/branches/${a.branch}/masking_rules`, rules);
    assert.equal(dry.status, 422);
    assert.equal(dry.body.code, "INVALID_MASKING_RULES");
    assert.deepEqual([patch.status, patch.body.code, patch.body.message], [422, dry.body.code, dry.body.message]);
    assert.match(dry.body.message, /^masking_rules\[1\]\.?.*pg_read_file/);
    assert.deepEqual((await h.request("GET", `/projects/${a.project}/branches/${a.branch}/masking_rules`)).body, before);
  });

  test("bad bodies get 400 naming the field; other projects 403; the default branch 422", async () => {
    const bad = await h.request("POST", path(), { masking_rules: "x" });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /^masking_rules: /);
    const other = await h.request("POST", `/projects/${b.project}/branches/${b.main}/masking_rules/validate`, { masking_rules: [] }, dev.key);
    assert.equal(other.status, 403);
    const main = await h.request("POST", `/projects/${a.project}/branches/${a.main}/masking_rules/validate`, { masking_rules: [] });
    assert.deepEqual([main.status, main.body.code], [422, "NOT_ANONYMIZED_BRANCH"]);
  });

  test("the console's live check answers the API's envelope and message", async () => {
    const rules = { masking_rules: [phoneRule(HOSTILE)] };
    const api = await h.request("POST", path(), rules, dev.key);
    const live = await developer.request("POST", `/console/projects/${a.project}/branches/${a.branch}/masking/validate`, {
      json: rules, headers: { "x-csrf-token": devCsrf },
    });
    const body = JSON.parse(live.text);
    assert.equal(live.status, api.status);
    assert.deepEqual([body.code, body.message], [api.body.code, api.body.message]);
    assert.ok(body.request_id);
  });
});

describe("applying rules without JavaScript", () => {
  test("a refused expression comes back on the page, next to its column, and nothing changes", async () => {
    const page = await admin.get(`/console/projects/${a.project}/branches/${a.branch}/masking`);
    const fields: Record<string, string> = { ...formFields(page.text), _csrf: adminCsrf };
    const phone = rowOf(fields, "users", "phone");
    fields[`fn.${phone}`] = "custom_function";
    fields[`expr.${phone}`] = HOSTILE;
    const res = await admin.post(`/console/projects/${a.project}/branches/${a.branch}/masking`, fields);
    assert.equal(res.status, 422);
    const message = (await h.request("POST", path(), { masking_rules: [emailRule(), phoneRule(HOSTILE)] })).body.message as string;
    assert.ok(textOf(res.text).includes(message));
    assert.match(res.text, new RegExp(`id="expr-${phone}"[^>]*aria-invalid="true"`));
    assert.equal(await htmlProblems(res.text), "");
    assert.equal(await anonState(a.branch), "anonymized", "no run started");
  });

  test("Apply = replace the rules, then anonymize; the branch ends anonymized with them", async () => {
    const page = await developer.get(`/console/projects/${a.project}/branches/${a.branch}/masking`);
    const fields: Record<string, string> = { ...formFields(page.text), _csrf: devCsrf };
    fields[`fn.${rowOf(fields, "users", "name")}`] = "full_name";
    const res = await developer.post(`/console/projects/${a.project}/branches/${a.branch}/masking`, fields);
    assert.equal(res.status, 303, textOf(res.text).slice(0, 400));
    assert.equal(res.location, `/console/projects/${a.project}/branches/${a.branch}/masking?done=applied`);
    assert.equal(await settled(a.branch), "anonymized");
    const rules = (await h.request("GET", `/projects/${a.project}/branches/${a.branch}/masking_rules`)).body.masking_rules;
    assert.deepEqual(rules.map((r: { column_name: string; masking_function: string }) => [r.column_name, r.masking_function]), [
      ["email", emailRule().masking_function],
      ["name", "anon.dummy_name()"],
    ]);
    const status = (await h.request("GET", `/projects/${a.project}/branches/${a.branch}/anonymized_status`)).body;
    assert.equal(status.last_run.triggered_by_username, dev.name);
    assert.equal(status.last_run.masked_columns, 2);
  });
});

describe("every page is valid HTML", () => {
  test("for the admin and for a developer, errors included", async () => {
    const pages = (p: string) => [
      "/console/projects", `/console/projects/${p}`, `/console/projects/${p}/masking`,
      `/console/projects/${p}/branches/${a.branch}/masking`, `/console/projects/${p}/audit`,
      `/console/projects/${b.project}`, "/console/nowhere",
    ];
    for (const [who, client] of [["admin", admin], ["developer", developer]] as const) {
      for (const path of pages(a.project)) {
        const res = await client.get(path);
        assert.ok([200, 403, 404].includes(res.status), `${who} ${path}: ${res.status}`);
        assert.equal(await htmlProblems(res.text), "", `${who} ${path}`);
      }
    }
    assert.equal(await htmlProblems((await new ConsoleClient(served.origin).get("/console/sign-in")).text), "");
  });
});
