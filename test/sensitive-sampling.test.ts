// Value sampling in the sensitive-column scan, through the real app on a
// generated parent (test/helpers/personal-data.ts): recall and precision, the
// 1,000-row bound measured by PostgreSQL's own counters, evidence without
// values, admin only; and the project's "not sensitive" decisions.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { auditEvents } from "../src/db/schema.ts";
import { startHarness, waitFor, type Harness, type MintedKey } from "./helpers/harness.ts";
import { connect, testServerUrl } from "./helpers/pg.ts";
import { createPersonalDatabase, PERSONAL_COLUMNS, ROWS, type PersonalDatabase } from "./helpers/personal-data.ts";

let h: Harness;
let pii: PersonalDatabase;
let projectId: string;
let developer: MintedKey;

type Column = { table_name: string; column_name: string; detected_by: string[]; evidence?: { detector: string; found_in: string; share: number }[]; not_sensitive?: { reason?: string; decided_by: string } };

/** Tuples each table has handed out (sequential + index fetches), from the server's statistics. */
async function tuplesRead(): Promise<Record<string, number>> {
  const sql = connect(testServerUrl(pii.name), { max: 1 });
  try {
    const rows = await sql<{ relname: string; n: string }[]>`
      SELECT relname, (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::text AS n FROM pg_stat_user_tables`;
    return Object.fromEntries(rows.map((r) => [r.relname, Number(r.n)]));
  } finally {
    await sql.end();
  }
}

before(async () => {
  pii = await createPersonalDatabase();
  h = await startHarness({ worker: false });
  ({ projectId } = await h.registerProject([pii.name], "pii", []));
  developer = await h.mintKey({ role: "developer", projects: [projectId] });
});

after(async () => {
  await h?.close();
  await pii?.drop();
});

describe("sampling values", () => {
  test("finds ≥ 14 of the 15 personal columns with precision ≥ 0.9, reading ≤ 1,000 rows per table", async () => {
    const before = await tuplesRead();
    const res = await h.request("GET", `/projects/${projectId}/sensitive_columns?sample=true`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const found = new Set<string>(res.body.columns.map((c: Column) => `${c.table_name}.${c.column_name}`));
    const truePositives = PERSONAL_COLUMNS.filter((c) => found.has(c));
    const falsePositives = [...found].filter((c) => !(PERSONAL_COLUMNS as readonly string[]).includes(c));
    const precision = truePositives.length / found.size;
    console.log(`recall ${truePositives.length}/${PERSONAL_COLUMNS.length}, precision ${precision.toFixed(3)}; missed: ${PERSONAL_COLUMNS.filter((c) => !found.has(c)).join(", ") || "none"}; false positives: ${falsePositives.join(", ") || "none"}`);
    assert.ok(truePositives.length >= 14, `recall ${truePositives.length}/15`);
    assert.ok(precision >= 0.9, `precision ${precision} (false positives: ${falsePositives.join(", ")})`);

    // The bound, as PostgreSQL counted it: stats are flushed when the sampling session ends.
    const read = await waitFor(tuplesRead, (now) => Object.keys(ROWS).every((t) => (now[t] ?? 0) > (before[t] ?? 0)), 20_000);
    for (const table of Object.keys(ROWS) as (keyof typeof ROWS)[]) {
      const delta = read[table]! - (before[table] ?? 0);
      assert.ok(delta <= 1000, `${table}: ${delta} tuples read`);
    }
    const sampled = new Map(res.body.sampling.tables.map((t: { table_name: string; rows_read: number; method: string }) => [t.table_name, t]));
    assert.equal((sampled.get("sessions") as { method: string }).method, "tablesample", "8,000 rows: pages are sampled");
    assert.equal((sampled.get("products") as { rows_read: number }).rows_read, ROWS.products, "small tables are read whole");
    assert.deepEqual(res.body.sampling.skipped, []);
    // no session lingers on the parent (it would block CREATE DATABASE … TEMPLATE); backends take a moment to exit
    const admin = connect(testServerUrl(), { max: 1 });
    const sessions = async () =>
      ((await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${pii.name}`) as unknown as [{ n: number }])[0].n;
    await waitFor(sessions, (n) => n === 0, 5000).finally(() => admin.end());
  });

  test("evidence names detectors and shares, never a value", async () => {
    const res = await h.request("GET", `/projects/${projectId}/sensitive_columns?sample=true`);
    const byName = new Map<string, Column>(res.body.columns.map((c: Column) => [`${c.table_name}.${c.column_name}`, c]));
    const evidence = (k: string) => byName.get(k)?.evidence?.map((e) => `${e.found_in}:${e.detector}`) ?? [];
    assert.deepEqual(byName.get("payments.ref")?.detected_by, ["values"]);
    assert.ok(evidence("payments.ref").includes("value:iban"));
    assert.ok(evidence("payments.instrument").includes("value:card_number"));
    assert.ok(evidence("sessions.peer").includes("value:ip_address"));
    assert.ok(evidence("employees.code").includes("value:national_id"));
    assert.ok(evidence("tickets.body").some((e) => e.startsWith("free_text:")));
    assert.ok(evidence("customers.preferences").includes("json_key:phone"));
    assert.deepEqual(byName.get("customers.email")?.detected_by, ["name", "values"]);
    const share = byName.get("payments.ref")!.evidence![0]!.share;
    assert.ok(share > 0.9 && share <= 1, `share ${share}`);
    // Values the parent holds appear nowhere in the answer.
    const body = JSON.stringify(res.body);
    const planted = await pii.query((sql) => sql<{ v: string }[]>`
      (SELECT email AS v FROM customers LIMIT 3) UNION ALL (SELECT ref FROM payments LIMIT 3) UNION ALL (SELECT code FROM employees LIMIT 3)`);
    assert.ok(planted.length > 0);
    for (const { v } of planted) assert.ok(!body.includes(v), "a sampled value leaked into the answer");
    assert.ok(!/@mail\.example|FR\d\d /.test(body));
  });

  test("sampling is for admins; the name scan stays open to every role", async () => {
    const sampled = await h.request("GET", `/projects/${projectId}/sensitive_columns?sample=true`, undefined, developer.key);
    assert.equal(sampled.status, 403);
    assert.match(sampled.body.message, /admin key; .* is developer/);
    const names = await h.request("GET", `/projects/${projectId}/sensitive_columns`, undefined, developer.key);
    assert.equal(names.status, 200);
    assert.ok(names.body.columns.every((c: Column) => c.evidence === undefined && c.detected_by.join() === "name"));
    assert.equal(names.body.sampling, undefined);
    const bad = await h.request("GET", `/projects/${projectId}/sensitive_columns?sample=yes`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /sample/);
    const audited = await h.services.db.select().from(auditEvents).where(eq(auditEvents.action, "sensitive_columns.sample"));
    assert.ok(audited.length >= 2 && audited.every((e) => e.projectId === projectId && e.actorRole === "admin"));
  });
});

describe("not-sensitive decisions", () => {
  const decision = (table: string, column: string, reason?: string) => ({ database_name: pii.name, schema_name: "public", table_name: table, column_name: column, reason });

  test("admins record them (validated, audited); the scan and its coverage show them", async () => {
    const url = `/projects/${projectId}/not_sensitive_columns`;
    assert.deepEqual((await h.request("GET", url, undefined, developer.key)).body, { not_sensitive_columns: [] });
    const denied = await h.request("PUT", url, { not_sensitive_columns: [decision("products", "owner_label")] }, developer.key);
    assert.equal(denied.status, 403);
    const unknown = await h.request("PUT", url, { not_sensitive_columns: [decision("products", "owner_lable"), decision("tickets", "body"), decision("tickets", "body")] });
    assert.equal(unknown.status, 422);
    assert.match(unknown.body.message, /not_sensitive_columns\[0\]\.column_name: column "owner_lable" does not exist .*did you mean "owner_label"/);
    assert.match(unknown.body.message, /not_sensitive_columns\[2\]: duplicate of not_sensitive_columns\[1\]/);
    assert.deepEqual((await h.request("GET", url)).body.not_sensitive_columns, [], "nothing written on a refusal");

    const put = await h.request("PUT", url, { not_sensitive_columns: [decision("products", "owner_label", "seed data, made-up owners")] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.not_sensitive_columns[0].reason, "seed data, made-up owners");
    assert.equal(put.body.not_sensitive_columns[0].decided_by, "admin");
    const scan = await h.request("GET", `/projects/${projectId}/sensitive_columns?sample=true`);
    const owner = scan.body.columns.find((c: Column) => c.column_name === "owner_label");
    assert.equal(owner.not_sensitive.reason, "seed data, made-up owners");
    assert.equal(scan.body.coverage.not_sensitive, 1);
    assert.equal(scan.body.coverage.uncovered, scan.body.coverage.sensitive - 1);

    const events = await h.services.db.select().from(auditEvents).where(eq(auditEvents.action, "project.not_sensitive_columns.replace"));
    assert.equal(events.length, 1);
    assert.deepEqual(events[0]!.before, []);
    assert.equal((events[0]!.after as { column_name: string }[])[0]!.column_name, "owner_label");
  });
});

describe("validating a rule set without storing it", () => {
  test("POST …/masking_rules/validate answers the problems PUT would, and stores nothing", async () => {
    const rule = (column: string, fn: string) => ({ database_name: pii.name, schema_name: "public", table_name: "customers", column_name: column, masking_function: fn });
    const res = await h.request("POST", `/projects/${projectId}/masking_rules/validate`, {
      masking_rules: [rule("email", "anon.dummy_safe_email()"), rule("emial", "anon.dummy_safe_email()"), rule("contact", "pg_read_file('/etc/passwd')")],
    }, developer.key);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.valid, false);
    assert.deepEqual(res.body.problems.map((p: { index: number }) => p.index), [1, 2]);
    assert.match(res.body.problems[0].message, /did you mean "email"/);
    const ok = await h.request("POST", `/projects/${projectId}/masking_rules/validate`, { masking_rules: [rule("email", "anon.dummy_safe_email()")] });
    assert.deepEqual(ok.body, { valid: true, problems: [] });
    assert.deepEqual((await h.request("GET", `/projects/${projectId}/masking_rules`)).body.masking_rules, []);
  });
});
