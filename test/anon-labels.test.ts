// The anon engine's label provider, masking-rules view and static masking,
// exercised on a real PostgreSQL with anon preloaded.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createScratchDatabase, type ScratchDatabase } from "./helpers/pg.ts";

let db: ScratchDatabase;

before(async () => {
  db = await createScratchDatabase("anon_labels");
  await db.sql`CREATE EXTENSION anon CASCADE`;
  await db.sql`SELECT anon.init()`;
  await db.sql.unsafe(`
    CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE, phone text, name text, address text);
    INSERT INTO users
      SELECT g, 'user' || g || '@corp.test', '06-' || lpad(g::text, 8, '0'), 'Name ' || g, g || ' Real Street'
      FROM generate_series(1, 2000) g;
    CREATE TABLE notes (id int PRIMARY KEY, body text);
    INSERT INTO notes VALUES (1, 'kept');
  `);
});

after(async () => {
  await db?.drop();
});

async function label(target: string, text: string | null): Promise<void> {
  const literal = text === null ? "NULL" : `'${text.replaceAll("'", "''")}'`;
  await db.sql.unsafe(`SECURITY LABEL FOR anon ON ${target} IS ${literal}`);
}

async function labelError(target: string, text: string): Promise<string> {
  try {
    await label(target, text);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail(`label ${JSON.stringify(text)} on ${target} was accepted`);
}

describe("label provider", () => {
  test("accepts the documented column labels, in any case", async () => {
    const accepted = [
      "MASKED WITH FUNCTION anon.fake_email()",
      "masked with function anon.partial(phone, 2, $$XXX$$, 2)",
      "Masked  With\tFunction pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')",
      "MASKED WITH VALUE 'CONFIDENTIAL'",
      "MASKED WITH VALUE NULL",
      "NOT MASKED",
    ];
    for (const text of accepted) {
      await label("COLUMN notes.body", text);
      const [row] = await db.sql`
        SELECT label FROM pg_seclabel WHERE objoid = 'notes'::regclass AND objsubid = 2 AND provider = 'anon'`;
      assert.equal(row?.label, text);
    }
    await label("COLUMN notes.body", null);
  });

  test("rejects malformed column labels, naming the label", async () => {
    const rejected = [
      "MASKED WITH FUNCTION anon.partial(phone, 2, 'X', 2",
      "MASKED WITH FUNCTION anon.fake_email())",
      "MASKED WITH FUNCTION 1; DROP TABLE users",
      "MASKED WITH FUNCTION 1) FROM pg_class WHERE (true",
      "MASKED WITH FUNCTION 1), (2",
      "MASKED WITH FUNCTION /* unterminated",
      "MASKED WITH FUNCTION ",
      "MASKED WITH VALUE",
      "MASKED WITH FUNCTIONS anon.fake_email()",
      "MASKED",
      "TRUSTED",
      "NOT MASKED please",
      "hello",
    ];
    for (const text of rejected) {
      const message = await labelError("COLUMN notes.body", text);
      assert.equal(message, `'${text}' is not a valid label for a column`);
    }
  });

  test("accepts TRUSTED on schemas and MASKED on roles, nothing else there", async () => {
    await db.sql`CREATE SCHEMA IF NOT EXISTS trusted_fns`;
    await label("SCHEMA trusted_fns", "trusted");
    await db.sql`DROP ROLE IF EXISTS anon_labels_masked_role`;
    await db.sql`CREATE ROLE anon_labels_masked_role`;
    await label("ROLE anon_labels_masked_role", "MASKED");
    assert.equal(
      await labelError("SCHEMA trusted_fns", "MASKED WITH VALUE 1"),
      "'MASKED WITH VALUE 1' is not a valid label for a schema",
    );
    assert.equal(await labelError("ROLE anon_labels_masked_role", "TRUSTED"), "'TRUSTED' is not a valid label for a role");
    await label("ROLE anon_labels_masked_role", null);
    await db.sql`DROP ROLE anon_labels_masked_role`;
  });

  test("refuses labels on objects it does not support", async () => {
    assert.equal(
      await labelError("TABLE notes", "MASKED WITH VALUE 1"),
      "anon provider does not support labels on this object",
    );
  });
});

describe("anon.pg_masking_rules and static masking", () => {
  test("anonymize_database masks exactly the labelled columns", async () => {
    const before = await db.sql`SELECT * FROM users ORDER BY id`;
    assert.equal(await nullResult("SELECT anon.anonymize_database() AS r"), null, "no rules yet: NULL");

    await label("COLUMN users.email", "MASKED WITH FUNCTION anon.fake_email()");
    await label("COLUMN users.phone", "MASKED WITH FUNCTION anon.partial(phone, 2, 'XXX-XXXX', 2)");
    await label("COLUMN users.address", "MASKED WITH VALUE 'CONFIDENTIAL'");

    const rules = await db.sql`
      SELECT relname, attname, masking_function, masking_value, format_type, trusted_schema, priority
      FROM anon.pg_masking_rules ORDER BY attnum`;
    assert.deepEqual(
      rules.map((r) => [r.relname, r.attname, r.masking_function, r.masking_value, r.format_type, r.trusted_schema]),
      [
        ["users", "email", "anon.fake_email()", null, "text", true],
        ["users", "phone", "anon.partial(phone, 2, 'XXX-XXXX', 2)", null, "text", true],
        ["users", "address", null, "'CONFIDENTIAL'", "text", true],
      ],
    );

    const [result] = await db.sql`SELECT anon.anonymize_database() AS r`;
    assert.equal(result?.r, true);

    const afterRows = await db.sql`SELECT * FROM users ORDER BY id`;
    assert.equal(afterRows.length, before.length);
    const emails = new Set<string>();
    afterRows.forEach((row, i) => {
      const original = before[i]!;
      assert.equal(row.id, original.id);
      assert.equal(row.name, original.name, "unlabelled column untouched");
      assert.notEqual(row.email, original.email);
      assert.match(row.email, /^[a-z0-9._-]+@[a-z0-9.-]+\.[a-z]{2,}$/);
      emails.add(row.email);
      assert.equal(row.phone, `06XXX-XXXX${original.phone.slice(-2)}`);
      assert.equal(row.address, "CONFIDENTIAL");
    });
    assert.equal(emails.size, afterRows.length, "fake_email() kept the UNIQUE constraint satisfied");
    const [kept] = await db.sql`SELECT body FROM notes`;
    assert.equal(kept?.body, "kept");
  });

  test("anonymize_table and anonymize_column report what they did", async () => {
    assert.equal(await nullResult("SELECT anon.anonymize_table('notes') AS r"), null);
    await db.sql`UPDATE users SET name = 'again' WHERE id = 1`;
    const [t] = await db.sql`SELECT anon.anonymize_table('users') AS r`;
    assert.equal(t?.r, true);
    const [c] = await db.sql`SELECT anon.anonymize_column('users', 'address') AS r`;
    assert.equal(c?.r, true);
    const [n] = await db.sql`SELECT anon.anonymize_column('users', 'name') AS r`;
    assert.equal(n?.r, false, "no rule on users.name");
  });

  test("labels in lower case are rules too; NOT MASKED is not a rule", async () => {
    await label("COLUMN users.name", "masked with function anon.dummy_name()");
    await label("COLUMN notes.body", "NOT MASKED");
    const rows = await db.sql`SELECT attname, masking_function FROM anon.pg_masking_rules WHERE attname IN ('name', 'body')`;
    assert.deepEqual(
      rows.map((r) => [r.attname, r.masking_function]),
      [["name", "anon.dummy_name()"]],
    );
    await db.sql`SELECT anon.anonymize_table('users')`;
    const [changed] = await db.sql`SELECT count(*)::int AS n FROM users WHERE name LIKE 'Name %' OR name = 'again'`;
    assert.equal(changed?.n, 0);
    await label("COLUMN users.name", null);
    await label("COLUMN notes.body", null);
  });

  test("masking expressions run with an empty search_path", async () => {
    await db.sql`CREATE TABLE sp (id int, v text)`;
    await db.sql`INSERT INTO sp VALUES (1, 'secret')`;
    await label("COLUMN sp.v", "MASKED WITH FUNCTION fake_email()");
    await assert.rejects(db.sql`SELECT anon.anonymize_table('sp')`, /function fake_email\(\) does not exist/);
    const [row] = await db.sql`SELECT v FROM sp`;
    assert.equal(row?.v, "secret", "a failed run changes nothing");
    await label("COLUMN sp.v", null);
  });

  test("anonymize_database is all or nothing", async () => {
    await db.sql`CREATE TABLE a_first (id int, v text)`;
    await db.sql`CREATE TABLE z_last (id int, v int)`;
    await db.sql`INSERT INTO a_first VALUES (1, 'original')`;
    await db.sql`INSERT INTO z_last VALUES (1, 1)`;
    await label("COLUMN a_first.v", "MASKED WITH VALUE 'masked'");
    await label("COLUMN z_last.v", "MASKED WITH FUNCTION 1 / 0");
    await assert.rejects(db.sql`SELECT anon.anonymize_database()`, /division by zero/);
    const [row] = await db.sql`SELECT v FROM a_first`;
    assert.equal(row?.v, "original");
    await db.sql`DROP TABLE a_first, z_last`;
  });

  test("constraints are deferred during the run", async () => {
    await db.sql.unsafe(`
      CREATE TABLE parents (id int PRIMARY KEY);
      CREATE TABLE children (id int PRIMARY KEY,
        parent_id int REFERENCES parents (id) ON UPDATE NO ACTION DEFERRABLE INITIALLY IMMEDIATE);
      INSERT INTO parents VALUES (1), (2);
      INSERT INTO children VALUES (10, 1), (20, 2);
    `);
    // Masking both sides of a deferrable foreign key in one run: each UPDATE alone breaks it.
    await label("COLUMN parents.id", "MASKED WITH FUNCTION id + 100");
    await label("COLUMN children.parent_id", "MASKED WITH FUNCTION parent_id + 100");
    await db.sql.begin(async (tx) => {
      await tx`SELECT anon.anonymize_table('parents')`;
      await tx`SELECT anon.anonymize_table('children')`;
    });
    const rows = await db.sql`SELECT c.id, p.id AS pid FROM children c JOIN parents p ON p.id = c.parent_id ORDER BY c.id`;
    assert.deepEqual(rows.map((r) => [r.id, r.pid]), [[10, 101], [20, 102]]);
    await label("COLUMN parents.id", null);
    await label("COLUMN children.parent_id", null);
  });

  test("trusted_schema says whether every called function lives in a trusted schema", async () => {
    await db.sql`CREATE SCHEMA IF NOT EXISTS untrusted_fns`;
    await db.sql`CREATE OR REPLACE FUNCTION untrusted_fns.f(t text) RETURNS text LANGUAGE sql AS $$ SELECT t $$`;
    await db.sql`CREATE TABLE ts (id int, a text, b text)`;
    await label("COLUMN ts.a", "MASKED WITH FUNCTION untrusted_fns.f(a)");
    await label("COLUMN ts.b", "MASKED WITH FUNCTION pg_catalog.upper(anon.fake_city())");
    const rows = await db.sql`SELECT attname, trusted_schema FROM anon.pg_masking_rules WHERE relname = 'ts' ORDER BY attnum`;
    assert.deepEqual(rows.map((r) => [r.attname, r.trusted_schema]), [["a", false], ["b", true]]);
    await label("SCHEMA untrusted_fns", "TRUSTED");
    const [a] = await db.sql`SELECT trusted_schema FROM anon.pg_masking_rules WHERE relname = 'ts' AND attname = 'a'`;
    assert.equal(a?.trusted_schema, true);
    await db.sql`DROP TABLE ts`;
  });
});

async function nullResult(query: string): Promise<unknown> {
  const [row] = await db.sql.unsafe(query);
  return row?.r;
}
