// The CLI as a subprocess against the real app over HTTP: a masked branch
// with --wait (progress, then a URI that connects to masked data), GitHub
// outputs, rules as a YAML file (pull → edit → diff → push), the coverage
// gate, and the exit codes scripts rely on.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startHarness, waitFor, type Harness } from "./helpers/harness.ts";
import { cliRunner, serveHarness, type CliResult, type ServedApp } from "./helpers/cli.ts";
import { connect } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;
let api: ServedApp;
let projectId: string;
let cli: ReturnType<typeof cliRunner>;
const dir = mkdtempSync(join(tmpdir(), "anonbranch-cli-"));
const made: string[] = [];

const show = (r: CliResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

before(async () => {
  shop = await createShop(300, "clishop");
  await shop.query((sql) => sql.unsafe(`
    CREATE TABLE reviews (id serial PRIMARY KEY, user_id int REFERENCES users (id), stars int, body text);
    INSERT INTO reviews (user_id, stars, body) SELECT 1 + g % 300, 1 + g % 5, 'review ' || g FROM generate_series(1, 500) g;`));
  h = await startHarness();
  ({ projectId } = await h.registerProject([shop.name], "cli"));
  api = await serveHarness(h);
  cli = cliRunner(api, h.adminToken);
});

after(async () => {
  for (const id of made) {
    await waitFor(async () => (await h.request("GET", `/projects/${projectId}/branches/${id}/anonymized_status`)).body.state, (s) => s !== "created" && s !== "anonymizing");
  }
  await api?.close();
  await h?.close();
  await shop?.drop();
});

describe("branch create --wait", () => {
  test("prints progress, then a URI that connects to masked data", async () => {
    const rules = join(dir, "create.yaml");
    writeFileSync(rules, `${shop.name}:
  public:
    users:
      email:
        function: pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')
      phone:
        function: anon.partial(phone, 2, 'XXXXXX', 2)
    reviews:
      body:
        value: "'redacted'"
`);
    const res = await cli(["branch", "create", "--project", projectId, "--name", "cli-wait", "--rules", rules, "--ttl", "2h", "--wait"]);
    assert.equal(res.code, 0, show(res));
    const progress = res.stderr.trim().split("\n");
    assert.match(progress[0]!, /^created branch br-\S+ \(cli-wait\), expires /);
    assert.ok(progress.length >= 3, `one line per state change:\n${res.stderr}`);
    assert.match(progress.at(-1)!, /\] anonymized: /);
    const uri = res.stdout.trim();
    assert.match(uri, /^postgres(ql)?:\/\/\S+$/, "stdout is the URI and nothing else");

    // Through the branch's endpoint, as anyone given the URI would.
    const sql = connect(uri, { max: 1 });
    try {
      const users = await sql`SELECT email, phone FROM users ORDER BY id LIMIT 20`;
      assert.equal(users.length, 20);
      assert.ok(users.every((u) => u.email.endsWith("@example.com") && !u.email.includes("shop.example")), "emails masked");
      assert.ok(users.every((u) => /^\+3XXXXXX\d\d$/.test(u.phone)), `phones masked: ${users[0]!.phone}`);
      const [reviews] = await sql`SELECT count(*)::int AS n, bool_and(body = 'redacted') AS redacted FROM reviews`;
      assert.deepEqual({ ...reviews }, { n: 500, redacted: true });
      assert.equal((await sql`SELECT count(*)::int AS n FROM orders`)[0]!.n, 600, "unmasked tables come along");
    } finally {
      await sql.end();
    }
    made.push(JSON.parse((await cli(["branch", "get", "--project", projectId, "--branch", "cli-wait", "--json"])).stdout).branch.id);
  });

  test("--github-output writes branch_id, db_url, db_host, password, masking the password first; --reuse picks it up again", async () => {
    const outputs = join(dir, "github-output");
    writeFileSync(outputs, "");
    const env = { GITHUB_OUTPUT: outputs, GITHUB_ACTIONS: "true" };
    const res = await cli(["branch", "create", "--project", projectId, "--name", "cli-gh", "--ttl", "1h", "--wait", "--github-output"], env);
    assert.equal(res.code, 0, show(res));
    const written = Object.fromEntries(readFileSync(outputs, "utf8").trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    assert.deepEqual(Object.keys(written).sort(), ["branch_id", "db_host", "db_url", "password"]);
    assert.match(written.branch_id!, /^br-[a-z]+-[a-z]+-\d{6}$/);
    const url = new URL(written.db_url!);
    assert.equal(decodeURIComponent(url.password), written.password);
    assert.equal(url.hostname, written.db_host);
    const lines = res.stdout.trim().split("\n");
    assert.equal(lines[0], `::add-mask::${written.password}`, "the password is masked before anything prints it");
    assert.equal(lines[1], written.db_url);
    made.push(written.branch_id!);

    writeFileSync(outputs, "");
    const again = await cli(["branch", "create", "--project", projectId, "--name", "cli-gh", "--ttl", "1h", "--wait", "--github-output", "--reuse", "--json"], env);
    assert.equal(again.code, 0, show(again));
    assert.match(readFileSync(outputs, "utf8"), new RegExp(`^branch_id=${written.branch_id}$`, "m"));
    const json = JSON.parse(again.stdout.slice(again.stdout.indexOf("{")));
    assert.equal(json.reused, true);
    assert.equal(json.db_url, written.db_url);
    assert.equal(json.password, undefined, "--json leaves the password to the URI");
    const dup = await cli(["branch", "create", "--project", projectId, "--name", "cli-gh"]);
    assert.equal(dup.code, 3, show(dup));
    assert.match(dup.stderr, /^error: .*cli-gh/m);
  });
});

describe("rules as a YAML file", () => {
  test("pull → edit → diff → push round trip keeps comments", async () => {
    const file = join(dir, "rules.yaml");
    const pull = await cli(["rules", "pull", "--project", projectId, "--file", file]);
    assert.equal(pull.code, 0, show(pull));
    const pulled = readFileSync(file, "utf8");
    assert.match(pulled, /^# anonbranch masking rules/);
    assert.match(pulled, /email:\n\s+function: pg_catalog\.concat\(anon\.dummy_uuidv4\(\), '@example\.com'\)/);
    assert.equal((await cli(["rules", "diff", "--project", projectId, "--file", file])).code, 0, "a fresh pull has no diff");

    const edited = pulled
      .replace("    users:\n", "    users: # customers of the shop\n")
      .replace(/(email:\n\s+function: )pg_catalog[^\n]+/, "$1pg_catalog.concat(anon.dummy_uuidv4(), '@masked.example') # unique\n      name:\n        function: anon.dummy_name()")
      .concat("    orders:\n      # free text, written by staff\n      note:\n        not_sensitive: true\n        reason: order numbers only\n");
    writeFileSync(file, edited);
    const diff = await cli(["rules", "diff", "--project", projectId, "--file", file]);
    assert.equal(diff.code, 1, show(diff));
    assert.match(diff.stdout, new RegExp(`^\\+ ${shop.name}\\.public\\.users\\.name  function anon\\.dummy_name\\(\\)$`, "m"));
    assert.match(diff.stdout, new RegExp(`^\\+ ${shop.name}\\.public\\.orders\\.note  not_sensitive \\(order numbers only\\)$`, "m"));
    assert.match(diff.stdout, /^~ \S+\.users\.email  function pg_catalog\.concat\(anon\.dummy_uuidv4\(\), '@example\.com'\) → function pg_catalog\.concat\(anon\.dummy_uuidv4\(\), '@masked\.example'\)$/m);
    assert.match(diff.stdout, /2 added, 0 removed, 1 changed/);
    const json = JSON.parse((await cli(["rules", "diff", "--project", projectId, "--file", file, "--json"])).stdout);
    assert.deepEqual([json.same, json.added.length, json.removed.length, json.changed.length], [false, 2, 0, 1]);

    const push = await cli(["rules", "push", "--project", projectId, "--file", file]);
    assert.equal(push.code, 0, show(push));
    assert.equal((await cli(["rules", "diff", "--project", projectId, "--file", file])).code, 0, show(push));
    const stored = await h.request("GET", `/projects/${projectId}/masking_rules`);
    assert.deepEqual(stored.body.masking_rules.map((r: { column_name: string }) => r.column_name), ["email", "name"]);
    assert.equal((await h.request("GET", `/projects/${projectId}/not_sensitive_columns`)).body.not_sensitive_columns[0].reason, "order numbers only");

    // A removal shows as "-"; pulling again brings the server's set back with the comments in place.
    writeFileSync(file, edited.replace(/      name:\n        function: anon.dummy_name\(\)\n/, ""));
    const removed = await cli(["rules", "diff", "--project", projectId, "--file", file]);
    assert.match(removed.stdout, /^- \S+\.users\.name  function anon\.dummy_name\(\)$/m);
    assert.equal((await cli(["rules", "pull", "--project", projectId, "--file", file])).code, 0);
    const repulled = readFileSync(file, "utf8");
    for (const comment of ["# customers of the shop", "# unique", "# free text, written by staff", "# anonbranch masking rules"]) {
      assert.ok(repulled.includes(comment), `${comment} survives:\n${repulled}`);
    }
    assert.match(repulled, /name:\n\s+function: anon\.dummy_name\(\)/);
  });

  test("a branch's rules: pull by branch name, push is the PATCH, refusals carry the API's message (exit 3)", async () => {
    const file = join(dir, "branch.yaml");
    assert.equal((await cli(["rules", "pull", "--project", projectId, "--branch", "cli-wait", "--file", file])).code, 0);
    assert.match(readFileSync(file, "utf8"), /reviews:\n\s+body:\n\s+value: "'redacted'"/);
    writeFileSync(file, readFileSync(file, "utf8").replace("phone:", "phnoe:"));
    const bad = await cli(["rules", "push", "--project", projectId, "--branch", "cli-wait", "--file", file]);
    assert.equal(bad.code, 3, show(bad));
    assert.match(bad.stderr, /column "phnoe" does not exist in table \S+\.public\.users \(did you mean "phone"\?\)/);
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, `${shop.name}:\n  public:\n    users:\n      email:\n        function: anon.dummy_safe_email()\n        value: "'x'"\n`);
    const usage = await cli(["rules", "diff", "--project", projectId, "--file", broken]);
    assert.equal(usage.code, 2, show(usage));
    assert.match(usage.stderr, /broken\.yaml:5: \S+\.public\.users\.email: give exactly one of function:, value: or not_sensitive: true/);
  });
});

describe("rules check, the coverage gate", () => {
  test("exit 1 on a newly added unmasked e-mail column, 0 once the file has a rule for it", async () => {
    const file = join(dir, "gate.yaml");
    const project = (await h.request("GET", `/projects/${projectId}/masking_rules`)).body.masking_rules;
    assert.ok(project.length >= 1);
    writeFileSync(file, `${shop.name}:
  public:
    users:
      email:
        function: pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')
      phone:
        function: anon.partial(phone, 2, 'XXXXXX', 2)
      name:
        function: anon.dummy_name()
      address:
        not_sensitive: true
        reason: test data
`);
    const green = await cli(["rules", "check", "--project", projectId, "--file", file]);
    assert.equal(green.code, 0, show(green));
    assert.match(green.stdout, /all 4 sensitive-looking columns are covered/);

    await shop.query((sql) => sql.unsafe("ALTER TABLE users ADD COLUMN backup_email text"));
    const red = await cli(["rules", "check", "--project", projectId, "--file", file]);
    assert.equal(red.code, 1, show(red));
    assert.match(red.stdout, /^COLUMN\s+CATEGORY\s+FOUND BY\s+SUGGESTION$/m);
    assert.match(red.stdout, new RegExp(`^${shop.name}\\.public\\.users\\.backup_email\\s+email\\s+name\\s+function: anon\\.dummy_safe_email\\(\\)$`, "m"));
    assert.match(red.stdout, /1 of 5 sensitive-looking columns have no rule/);
    const json = JSON.parse((await cli(["rules", "check", "--project", projectId, "--file", file, "--json"])).stdout);
    assert.deepEqual(json.uncovered.map((c: { column: string }) => c.column), [`${shop.name}.public.users.backup_email`]);

    writeFileSync(file, readFileSync(file, "utf8").replace("      address:", "      backup_email:\n        function: anon.dummy_safe_email()\n      address:"));
    const fixed = await cli(["rules", "check", "--project", projectId, "--file", file]);
    assert.equal(fixed.code, 0, show(fixed));

    // A rule the API would refuse fails the gate too: the file has drifted from the schema.
    writeFileSync(file, readFileSync(file, "utf8").replace("backup_email:", "backup_mail:"));
    const drift = await cli(["rules", "check", "--project", projectId, "--file", file]);
    assert.equal(drift.code, 1, show(drift));
    assert.match(drift.stdout, /column "backup_mail" does not exist .*did you mean "backup_email"/);
  });
});

describe("the other commands and exit codes", () => {
  test("list, get, status, reset --wait, delete (by name), and --if-exists", async () => {
    const list = await cli(["branch", "list", "--project", projectId]);
    assert.equal(list.code, 0, show(list));
    assert.match(list.stdout, /^ID\s+NAME\s+STATE\s+KIND\s+EXPIRES$/m);
    assert.match(list.stdout, /\scli-wait\s+ready\s+anonymized\s+\d{4}-/);
    const listed = JSON.parse((await cli(["branch", "list", "--project", projectId, "--search", "cli-", "--json"])).stdout);
    assert.deepEqual(listed.branches.map((b: { name: string }) => b.name).sort(), ["cli-gh", "cli-wait"]);

    const status = await cli(["status", "--project", projectId, "--branch", "cli-gh"]);
    assert.equal(status.code, 0, show(status));
    assert.match(status.stdout, /^anonymized: /);
    const reset = await cli(["branch", "reset", "--project", projectId, "--branch", "cli-gh", "--wait"]);
    assert.equal(reset.code, 0, show(reset));
    assert.match(reset.stderr, /created: .*reset/i);
    assert.match(reset.stdout, /is anonymized$/m);

    const del = await cli(["branch", "delete", "--project", projectId, "--branch", "cli-gh"]);
    assert.equal(del.code, 0, show(del));
    const gone = await cli(["branch", "delete", "--project", projectId, "--branch", "cli-gh"]);
    assert.equal(gone.code, 3, show(gone));
    assert.match(gone.stderr, /no branch named "cli-gh"/);
    assert.equal((await cli(["branch", "delete", "--project", projectId, "--branch", "cli-gh", "--if-exists"])).code, 0);
  });

  test("usage errors exit 2, refusals 3 with the API's message, an unreachable API 4", async () => {
    const noToken = await cli(["branch", "list", "--project", projectId], { ANONBRANCH_TOKEN: "" });
    assert.equal(noToken.code, 2, show(noToken));
    assert.match(noToken.stderr, /no token: set ANONBRANCH_TOKEN/);
    assert.equal((await cli(["branch", "create", "--project", projectId, "--ttl", "soon"])).code, 2);
    assert.equal((await cli(["branch", "frobnicate"])).code, 2);
    const denied = await cli(["branch", "list", "--project", projectId, "--json"], { ANONBRANCH_TOKEN: "not-a-token" });
    assert.equal(denied.code, 3, show(denied));
    const err = JSON.parse(denied.stdout).error;
    assert.equal(err.status, 401);
    assert.equal(err.code, "UNAUTHORIZED");
    assert.ok(err.request_id);
    const down = await cli(["branch", "list", "--project", projectId], { ANONBRANCH_API_URL: "http://127.0.0.1:9" });
    assert.equal(down.code, 4, show(down));
    assert.match(down.stderr, /cannot reach the API at http:\/\/127\.0\.0\.1:9\/api\/v2/);
  });
});
