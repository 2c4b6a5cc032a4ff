// Preview of masked rows (issue 13): rows of a table as the branch's rules
// mask them, on an initialized branch (whose data underneath is still the
// parent's), read-only — by the API and by the CLI.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { cliRunner, serveHarness, type ServedApp } from "./helpers/cli.ts";
import { startHarness, waitFor, type Harness, type MintedKey } from "./helpers/harness.ts";
import { connect, testServerUrl, type Sql } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;
let admin: Sql;
let api: ServedApp;
let projectId: string;
let otherProject: string;
let dev: MintedKey;
let branchId: string;

const rule = (column: string, fn: Record<string, unknown>) => ({
  database_name: shop.name, schema_name: "public", table_name: "users", column_name: column, ...fn,
});
const path = (rest: string) => `/projects/${projectId}/branches/${branchId}${rest}`;

/** A checksum of the branch's users table and how many rows were ever written to it. */
async function branchState() {
  const db = connect(testServerUrl(`${branchId.replaceAll("-", "_")}__${shop.name}`), { max: 1 });
  try {
    const [row] = await db`
      SELECT (SELECT md5(string_agg(u::text, '|' ORDER BY id)) FROM users u) AS checksum,
             (SELECT n_tup_upd + n_tup_ins + n_tup_del FROM pg_stat_user_tables WHERE relname = 'users') AS writes`;
    return row;
  } finally {
    await db.end();
  }
}

before(async () => {
  shop = await createShop(200, "preview");
  admin = connect(testServerUrl(), { max: 1 });
  h = await startHarness();
  projectId = (await h.registerProject([shop.name], "preview", [
    rule("email", { masking_function: "pg_catalog.concat(pg_catalog.md5(email), '@example.com')" }),
    rule("name", { masking_value: "'X'" }),
  ])).projectId;
  otherProject = (await h.registerProject([shop.name], "other")).projectId;
  dev = await h.mintKey({ role: "developer", projects: [projectId] });
  const made = await h.request("POST", `/projects/${projectId}/branch_anonymized`, {
    branch_create: { branch: { name: "to-preview" } },
    masking_rules: [
      rule("email", { masking_function: "pg_catalog.concat(pg_catalog.md5(email), '@example.com')" }),
      rule("name", { masking_value: "'X'" }),
      rule("phone", { masking_function: "anon.partial(phone, 3, 'XXXX', 2)" }),
    ],
  }, dev.key);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  branchId = made.body.branch.id;
  const s = await waitFor(
    async () => (await h.request("GET", path("/anonymized_status"))).body,
    (b) => ["initialized", "initialization_error"].includes(b.state),
  );
  assert.equal(s.state, "initialized", s.status_message);
  api = await serveHarness(h);
});

after(async () => {
  await api?.close();
  await h?.close();
  await shop?.drop();
  await admin?.end();
});

describe("preview", () => {
  test("an initialized branch: masked columns masked, the rest as the branch will show it, nothing written", async () => {
    const before = await branchState();
    const res = await h.request("GET", path(`/preview?table=public.users&limit=7`), undefined, dev.key);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.columns.map((c: { name: string; masked: boolean }) => [c.name, c.masked]),
      [["id", false], ["email", true], ["phone", true], ["name", true], ["address", false]],
    );
    assert.equal(res.body.rows.length, 7);
    const originals = new Map(
      (await shop.query((sql) => sql`SELECT id, email, phone, name, address FROM users`)).map((r) => [r.id as number, r]),
    );
    for (const row of res.body.rows) {
      const original = originals.get(row.id)!;
      assert.equal(row.email, `${createHashHex(original.email)}@example.com`);
      assert.equal(row.name, "X");
      assert.notEqual(row.phone, original.phone);
      assert.equal(row.phone.slice(0, 3), original.phone.slice(0, 3));
      assert.equal(row.address, original.address, "an unmasked column is shown as it is");
    }
    const after = await branchState();
    assert.deepEqual(after, before, "the preview changed the branch");
    const status = await h.request("GET", path("/anonymized_status"));
    assert.equal(status.body.state, "initialized");
  });

  test("bad requests name the field; another project's key gets 403; a missing table 404", async () => {
    const limit = await h.request("GET", path(`/preview?table=users&limit=0`), undefined, dev.key);
    assert.equal(limit.status, 400);
    assert.match(limit.body.message, /^limit: must be at least 1/);
    const missing = await h.request("GET", path(`/preview?table=public.nope`), undefined, dev.key);
    assert.equal(missing.status, 404, JSON.stringify(missing.body));
    assert.match(missing.body.message, /table .*public\.nope not found/);
    const outsider = await h.mintKey({ role: "developer", projects: [otherProject] });
    const refused = await h.request("GET", path(`/preview?table=users`), undefined, outsider.key);
    assert.equal(refused.status, 403);
  });

  test("the CLI prints the preview, masked columns marked, and --json", async () => {
    const cli = cliRunner(api, dev.key);
    const text = await cli(["preview", "--project", projectId, "--branch", "to-preview", "--table", "public.users", "--limit", "3"]);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trim().split("\n");
    assert.match(lines[0]!, new RegExp(`${shop.name}\\.public\\.users`));
    assert.match(lines[1]!, /^id\s+email\*\s+phone\*\s+name\*\s+address$/);
    assert.equal(lines.length, 5);
    const json = await cli(["preview", "--project", projectId, "--branch", branchId, "--table", "users", "--limit", "2", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).rows.length, 2);
    const bad = await cli(["preview", "--project", projectId, "--branch", branchId, "--table", "users", "--limit", "500"]);
    assert.equal(bad.code, 2);
  });
});

function createHashHex(text: string): string {
  return createHash("md5").update(text).digest("hex");
}
