// Our GitHub Action (action.yml), run the way the runner runs a composite
// action: each step's `run` written to a file and executed with
// `bash --noprofile --norc -eo pipefail`, `${{ … }}` expressions substituted,
// the env GitHub sets (GITHUB_OUTPUT per step, GITHUB_REF of a pull request,
// ACTIONS_ID_TOKEN_REQUEST_* with id-token: write), step outputs read back
// from their files, ::add-mask:: applied to the log. Against the real app
// served over HTTP.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { parse } from "yaml";
import { baseEnv, REPO_ROOT, run, serveHarness, type ServedApp } from "./helpers/cli.ts";
import { startHarness, waitFor, type Harness } from "./helpers/harness.ts";
import { connect } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

interface ActionStep { id?: string; name?: string; shell: string; run: string; env?: Record<string, string>; "working-directory"?: string }
interface ActionFile {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: ActionStep[] };
}
interface ActionRun { code: number; outputs: Record<string, string>; log: string }

const action = parse(readFileSync(join(REPO_ROOT, "action.yml"), "utf8")) as ActionFile;

/** Step outputs as GitHub reads them: name=value lines and name<<DELIMITER blocks. */
function readOutputs(file: string): Record<string, string> {
  const lines = readFileSync(file, "utf8").split("\n");
  const out: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      out[heredoc[1]!] = lines.slice(i + 1, end).join("\n");
      i = end;
    } else if (line.includes("=")) {
      out[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    }
  }
  return out;
}

/** Runs action.yml's steps with `inputs` in a fresh runner layout; `env` is what the job adds. */
async function runAction(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  assert.equal(action.runs.using, "composite");
  const given: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.inputs)) {
    const value = inputs[name] ?? spec.default ?? "";
    if (spec.required && value === "") throw new Error(`input ${name} is required`);
    given[name] = value;
  }
  for (const name of Object.keys(inputs)) assert.ok(name in action.inputs, `action.yml has no input ${name}`);
  const steps: Record<string, Record<string, string>> = {};
  // Only the expressions the runner would resolve here; anything else fails the test.
  const evaluate = (text: string): string =>
    text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_, expr: string) => {
      let m: RegExpExecArray | null;
      if ((m = /^inputs\.([\w-]+)$/.exec(expr))) return given[m[1]!] ?? "";
      if (expr === "github.action_path") return REPO_ROOT;
      if ((m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr))) return steps[m[1]!]?.[m[2]!] ?? "";
      throw new Error(`unsupported expression in action.yml: ${expr}`);
    });
  const runner = mkdtempSync(join(tmpdir(), "runner-"));
  const workspace = join(runner, "work");
  const temp = join(runner, "temp");
  mkdirSync(workspace);
  mkdirSync(join(temp, "_runner_file_commands"), { recursive: true });
  const event = join(temp, "event.json");
  writeFileSync(event, JSON.stringify({ action: "synchronize", number: 42, pull_request: { number: 42, head: { ref: "feature/x" } } }));
  const masks: string[] = [];
  let log = "";
  for (const step of action.runs.steps) {
    assert.equal(step.shell, "bash", "composite steps name their shell");
    const file = (kind: string) => {
      const path = join(temp, "_runner_file_commands", `${kind}_${randomUUID()}`);
      writeFileSync(path, "");
      return path;
    };
    const outputFile = file("set_output");
    const script = join(temp, `${randomUUID()}.sh`);
    writeFileSync(script, evaluate(step.run));
    const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, evaluate(String(v))]));
    const res = await run("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], baseEnv({
      CI: "true", GITHUB_ACTIONS: "true", RUNNER_OS: "Linux", RUNNER_TEMP: temp, GITHUB_WORKSPACE: workspace,
      GITHUB_EVENT_NAME: "pull_request", GITHUB_EVENT_PATH: event, GITHUB_REF: "refs/pull/42/merge", GITHUB_REF_NAME: "42/merge",
      GITHUB_HEAD_REF: "feature/x", GITHUB_REPOSITORY: "acme/shop", GITHUB_ACTION_PATH: REPO_ROOT,
      GITHUB_OUTPUT: outputFile, GITHUB_ENV: file("set_env"), GITHUB_PATH: file("add_path"), GITHUB_STATE: file("save_state"),
      GITHUB_STEP_SUMMARY: file("step_summary"),
      ...env, ...stepEnv,
    }), step["working-directory"] ? evaluate(step["working-directory"]) : workspace);
    // The runner hides registered secrets from every later line of the log.
    for (const line of `${res.stdout}${res.stderr}`.split("\n")) {
      const mask = /^::add-mask::(.+)$/.exec(line);
      if (mask) masks.push(mask[1]!);
      else log += `${masks.reduce((l, m) => l.replaceAll(m, "***"), line)}\n`;
    }
    if (step.id) steps[step.id] = readOutputs(outputFile);
    if (res.code !== 0) return { code: res.code, outputs: {}, log };
  }
  const outputs = Object.fromEntries(Object.entries(action.outputs).map(([k, o]) => [k, evaluate(o.value)]));
  return { code: 0, outputs, log };
}

let h: Harness;
let shop: ShopDatabase;
let api: ServedApp;
let projectId: string;
let ciKey: string;
let idTokens: Server;
let idTokenUrl: string;
const idRequestToken = randomBytes(16).toString("hex");
const audiences: string[] = [];

before(async () => {
  // A stand-in for the runner's OIDC token service (ACTIONS_ID_TOKEN_REQUEST_URL), with its JWKS.
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "gh", alg: "RS256", use: "sig" };
  idTokens = createServer(async (req, res) => {
    const url = new URL(req.url!, "http://x");
    if (url.pathname === "/jwks") return res.end(JSON.stringify({ keys: [jwk] }));
    if (req.headers.authorization !== `bearer ${idRequestToken}`) return res.writeHead(401).end();
    const audience = url.searchParams.get("audience")!;
    audiences.push(audience);
    const jwt = await new SignJWT({ repository: "acme/shop", ref: "refs/pull/42/merge" })
      .setProtectedHeader({ alg: "RS256", kid: "gh" }).setIssuer("https://token.actions.githubusercontent.com")
      .setAudience(audience).setSubject("repo:acme/shop:pull_request").setIssuedAt().setExpirationTime("5m").sign(privateKey);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ count: 1, value: jwt }));
  });
  await new Promise<void>((resolve) => idTokens.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(idTokens.address() as AddressInfo).port}`;
  idTokenUrl = `${base}/token?api-version=2.0`;

  shop = await createShop(200, "actshop");
  h = await startHarness({ oidcJwksUrl: `${base}/jwks` });
  ({ projectId } = await h.registerProject([shop.name], "action"));
  api = await serveHarness(h);
  ciKey = (await h.mintKey({ role: "ci", projects: [projectId] })).key;
});

after(async () => {
  const list = await h.request("GET", `/projects/${projectId}/branches`);
  for (const b of list.body.branches ?? []) {
    await waitFor(async () => (await h.request("GET", `/projects/${projectId}/branches/${b.id}/anonymized_status`)).body.state, (s) => s !== "created" && s !== "anonymizing");
  }
  await api?.close();
  await h?.close();
  await shop?.drop();
  idTokens?.close();
});

describe("the GitHub Action", () => {
  test("check gates, create outputs a masked branch (reused on the next push), delete removes it", async () => {
    const rules = join(mkdtempSync(join(tmpdir(), "rules-")), "anonbranch.yaml");
    const common = { api_url: api.url, token: ciKey, project: projectId, ttl: "30m" };
    writeFileSync(rules, `${shop.name}:\n  public:\n    users:\n      email:\n        function: pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')\n`);
    const gap = await runAction({ ...common, command: "check", rules_file: rules });
    assert.equal(gap.code, 1, gap.log);
    assert.match(gap.log, /users\.phone/);
    writeFileSync(rules, readFileSync(rules, "utf8") + "      phone:\n        value: NULL\n      name:\n        function: anon.dummy_name()\n      address:\n        not_sensitive: true\n");
    const gate = await runAction({ ...common, command: "check", rules_file: rules });
    assert.equal(gate.code, 0, gate.log);

    const created = await runAction(common);
    assert.equal(created.code, 0, created.log);
    assert.match(created.outputs.branch_id!, /^br-[a-z]+-[a-z]+-\d{6}$/);
    const branch = await h.request("GET", `/projects/${projectId}/branches/${created.outputs.branch_id}`);
    assert.equal(branch.body.branch.name, "pr-42", "named after the pull request");
    assert.ok(branch.body.branch.expires_at, "ttl became expires_at");
    const password = created.outputs.password!;
    assert.ok(password.length >= 16);
    assert.equal(decodeURIComponent(new URL(created.outputs.db_url!).password), password);
    assert.ok(!created.log.includes(password), "the password never shows in the log");
    assert.match(created.log, /\*\*\*/);
    const sql = connect(created.outputs.db_url!, { max: 1 });
    try {
      const users = await sql`SELECT email FROM users LIMIT 10`;
      assert.ok(users.length === 10 && users.every((u) => !String(u.email).endsWith("@shop.example")), "masked data");
    } finally {
      await sql.end();
    }

    const again = await runAction(common);
    assert.equal(again.code, 0, again.log);
    assert.equal(again.outputs.branch_id, created.outputs.branch_id, "a later push reuses the branch");

    const deleted = await runAction({ ...common, command: "delete" });
    assert.equal(deleted.code, 0, deleted.log);
    assert.equal((await h.request("GET", `/projects/${projectId}/branches/${created.outputs.branch_id}`)).status, 404);
    assert.equal((await runAction({ ...common, command: "delete" })).code, 0, "deleting a branch that is gone is fine");
    const wrong = await runAction({ ...common, command: "destroy" });
    assert.equal(wrong.code, 2);
    assert.match(wrong.log, /::error::anonbranch: command must be create, delete or check/);
  });

  test("without a token it uses the job's OIDC token, for the api_url audience", async () => {
    const policy = await h.request("POST", `/projects/${projectId}/trust_policies`, { audience: api.url, repository: "acme/shop", role: "ci" });
    assert.equal(policy.status, 201, JSON.stringify(policy.body));
    const oidcEnv = { ACTIONS_ID_TOKEN_REQUEST_URL: idTokenUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: idRequestToken };
    const res = await runAction({ api_url: api.url, project: projectId, branch: "oidc-branch", ttl: "30m", wait: "false" }, oidcEnv);
    assert.equal(res.code, 0, res.log);
    assert.deepEqual(audiences, [api.url]);
    assert.match(res.outputs.branch_id!, /^br-/);
    assert.equal(res.outputs.db_url, "", "no URI without wait");
    const made = await h.request("GET", `/projects/${projectId}/branches/${res.outputs.branch_id}`);
    assert.equal(made.body.branch.name, "oidc-branch");

    const otherAudience = await runAction({ api_url: api.url, audience: "https://elsewhere.example", project: projectId, branch: "x", ttl: "30m", wait: "false" }, oidcEnv);
    assert.equal(otherAudience.code, 3, otherAudience.log);
    assert.equal(audiences.at(-1), "https://elsewhere.example");
    const noIdToken = await runAction({ api_url: api.url, project: projectId, wait: "false" });
    assert.equal(noIdToken.code, 2, "no token and no id-token permission: a usage error");
    assert.match(noIdToken.log, /no token/);
  });
});
