// Masking-rule validation against a catalog introspected from a real
// database: the product's happy rules pass, hostile or malformed ones are
// refused with a message that says why.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { introspectDatabase } from "../src/masking/introspect.ts";
import type { DatabaseCatalog, MaskingRule } from "../src/masking/types.ts";
import { canonicalLabel, parseLabel, validateMaskingRules } from "../src/masking/validate.ts";
import { isAllowedFunction } from "../src/masking/functions.ts";
import { createScratchDatabase, type ScratchDatabase } from "./helpers/pg.ts";

let db: ScratchDatabase;
let catalogs: Record<string, DatabaseCatalog>;

before(async () => {
  db = await createScratchDatabase("masking_validate");
  await db.sql.unsafe(`
    CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE, phone text, name text, address text,
                        "Odd ""Col"" name" text);
    CREATE UNIQUE INDEX users_name_lower ON users (lower(name));
    CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users, total numeric, note text);
    ALTER TABLE orders ADD COLUMN gone int;
    ALTER TABLE orders DROP COLUMN gone;
    CREATE SCHEMA billing;
    CREATE TABLE billing.invoices (id bigserial PRIMARY KEY, customer_email text, amount numeric,
                                   code varchar(20) CONSTRAINT invoices_code_key UNIQUE);
    CREATE UNIQUE INDEX invoices_amount_idx ON billing.invoices (amount) INCLUDE (customer_email);
    CREATE TABLE billing.events (id int, at date, payload text) PARTITION BY RANGE (at);
    CREATE TABLE billing.events_2024 PARTITION OF billing.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE VIEW user_emails AS SELECT email FROM users;
    CREATE SCHEMA anon;
    CREATE TABLE anon.internal (x int);
  `);
  catalogs = { shop: await introspectDatabase(db.sql, "shop") };
});

after(async () => {
  await db?.drop();
});

/** A rule on shop.public.<table>.<column>, users.phone unless told otherwise. */
function rule(fields: Partial<MaskingRule>): MaskingRule {
  return { database_name: "shop", schema_name: "public", table_name: "users", column_name: "phone", ...fields };
}

const happyRules: MaskingRule[] = [
  rule({ column_name: "email", masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')" }),
  rule({ column_name: "phone", masking_function: "anon.partial(phone, 2, 'XXX-XXXX', 2)" }),
  rule({ column_name: "address", masking_value: "'CONFIDENTIAL'" }),
  rule({ column_name: "name", masking_function: "anon.dummy_name()" }),
  rule({ column_name: 'Odd "Col" name', masking_function: `anon.partial("Odd ""Col"" name", 1, '***', 1)` }),
];

describe("introspectDatabase", () => {
  test("reads tables, keys and unique sets of user schemas only", () => {
    const tables = catalogs.shop!.tables;
    const names = tables.map((t) => `${t.schema}.${t.name}`);
    assert.deepEqual(names, ["billing.events", "billing.events_2024", "billing.invoices", "public.orders", "public.users"]);
    const users = tables.find((t) => t.name === "users")!;
    assert.deepEqual(users.columns.map((c) => c.name), ["id", "email", "phone", "name", "address", 'Odd "Col" name']);
    assert.deepEqual(users.columns[0], { name: "id", dataType: "integer", notNull: true });
    assert.deepEqual(users.primaryKey, ["id"]);
    assert.deepEqual(users.uniqueColumnSets, [["id"], ["email"]]); // the lower(name) index has no column set
    const orders = tables.find((t) => t.name === "orders")!;
    assert.deepEqual(orders.columns.map((c) => c.name), ["id", "user_id", "total", "note"]);
    assert.deepEqual(orders.foreignKeys, [
      { name: "orders_user_id_fkey", refSchema: "public", refTable: "users", columns: ["user_id"], refColumns: ["id"] },
    ]);
    const invoices = tables.find((t) => t.name === "invoices")!;
    assert.deepEqual(invoices.uniqueColumnSets, [["id"], ["amount"], ["code"]]);
    assert.equal(invoices.columns.find((c) => c.name === "code")?.dataType, "character varying(20)");
    assert.equal(tables.find((t) => t.name === "events")?.kind, "partitioned table");
  });
});

describe("validateMaskingRules", () => {
  test("accepts the product's rules", async () => {
    assert.deepEqual(await validateMaskingRules(happyRules, catalogs), []);
  });

  const validCases: [string, MaskingRule][] = [
    ["trailing -- comment (harmless inside the engine's wrapping)", rule({ masking_function: "anon.fake_email() -- comment" })],
    ["CASE with arithmetic", rule({ table_name: "orders", column_name: "total", masking_function: "CASE WHEN total > 100 THEN round(total, -2) ELSE total END" })],
    ["hash of the unique column", rule({ column_name: "email", masking_function: "anon.hash(email)" })],
    ["md5 of a qualified column on a unique column", rule({ column_name: "email", masking_function: "md5(users.email)" })],
    ["SQL-syntax substring", rule({ table_name: "orders", column_name: "note", masking_function: "substring(note from 1 for 3) || '...'" })],
    ["coalesce / nullif", rule({ table_name: "orders", column_name: "note", masking_function: "coalesce(nullif(note, ''), 'n/a')" })],
    ["cast with type modifier", rule({ table_name: "orders", column_name: "total", masking_function: "greatest(total, 0)::numeric(10,2)" })],
    ["NULL value", rule({ table_name: "orders", column_name: "note", masking_value: "NULL" })],
    ["negative number value", rule({ table_name: "orders", column_name: "total", masking_value: "-1" })],
    ["typed constant value", rule({ table_name: "orders", column_name: "note", masking_value: "'2020-01-01'::date" })],
    ["other schema", rule({ schema_name: "billing", table_name: "invoices", column_name: "customer_email", masking_function: "anon.partial_email(customer_email)" })],
    ["uuid generator on a UNIQUE varchar", rule({ schema_name: "billing", table_name: "invoices", column_name: "code", masking_function: "left(gen_random_uuid()::text, 20)" })],
    ["LIKE, BETWEEN, IS NULL, CURRENT_DATE", rule({ table_name: "orders", column_name: "note", masking_function: "CASE WHEN note ILIKE '%x%' OR total BETWEEN 1 AND 2 OR note IS NULL THEN CURRENT_DATE::text END" })],
    ["partitioned table", rule({ schema_name: "billing", table_name: "events", column_name: "payload", masking_function: "anon.lorem_ipsum()" })],
  ];
  for (const [name, r] of validCases) {
    test(`accepts: ${name}`, async () => {
      assert.deepEqual(await validateMaskingRules([r], catalogs), []);
    });
  }

  // [description, rule, expected message fragment]
  const hostile: [string, MaskingRule, string][] = [
    ["file read", rule({ masking_function: "pg_read_file('/etc/passwd')" }), "function pg_read_file is not allowed; masking functions must be anon.* masking functions"],
    ["qualified file read", rule({ masking_function: "pg_catalog.pg_read_file('/etc/passwd')" }), "function pg_catalog.pg_read_file is not allowed"],
    ["sub-query", rule({ masking_function: "(select password from pg_authid)" }), "sub-queries are not allowed"],
    ["ARRAY sub-query", rule({ masking_function: "ARRAY(select rolname from pg_roles)" }), "sub-queries are not allowed"],
    ["EXISTS", rule({ masking_function: "EXISTS(select 1)" }), "sub-queries are not allowed"],
    ["stacked statement", rule({ masking_function: "anon.fake_email(); drop table users" }), 'syntax error at or near ";"'],
    ["stacked statement after a constant", rule({ masking_function: "1; drop table users" }), 'syntax error at or near ";"'],
    ["paren escape into a second statement", rule({ masking_function: "1); drop table users; select (1" }), "not several statements"],
    ["paren escape into FROM", rule({ masking_function: "1) FROM users WHERE (true" }), "must be a single expression (found FROM)"],
    ["paren escape into two targets", rule({ masking_function: "1), (2" }), "not a list of 2"],
    ["paren escape into UNION", rule({ masking_function: "1) UNION SELECT (2" }), "UNION"],
    ["unterminated comment", rule({ masking_function: "anon.fake_email() /* x" }), "unterminated /* comment"],
    ["unknown schema function", rule({ masking_function: "nosuchschema.f()" }), "function nosuchschema.f is not allowed"],
    ["user function", rule({ masking_function: "public.my_func(email)" }), "function public.my_func is not allowed"],
    ["anon.init", rule({ masking_function: "anon.init()" }), "function anon.init is not allowed"],
    ["anon.anonymize_database", rule({ masking_function: "anon.anonymize_database()" }), "function anon.anonymize_database is not allowed"],
    ["anon.start_dynamic_masking", rule({ masking_function: "anon.start_dynamic_masking()" }), "function anon.start_dynamic_masking is not allowed"],
    ["anon private helper", rule({ masking_function: "anon._first_name_list()" }), "function anon._first_name_list is not allowed"],
    ["schema name is case-sensitive", rule({ masking_function: '"ANON".fake_email()' }), "function ANON.fake_email is not allowed"],
    ["cross-database function name", rule({ masking_function: "shop.anon.fake_email()" }), "function shop.anon.fake_email is not allowed"],
    ["unqualified anon function", rule({ masking_function: "fake_email()" }), "(did you mean anon.fake_email?)"],
    ["unclosed call", rule({ masking_function: "anon.partial(phone, 2, 'X'" }), "masking_function does not parse: syntax error"],
    ["extra parenthesis", rule({ masking_function: "anon.fake_email())" }), "masking_function does not parse: syntax error"],
    ["FROM clause", rule({ masking_function: "lower(email) FROM users" }), "masking_function does not parse: syntax error"],
    ["regclass cast", rule({ masking_function: "email::regclass" }), "cast to regclass is not allowed"],
    ["user type cast", rule({ masking_function: "email::public.mytype" }), "cast to public.mytype is not allowed"],
    ["qualified operator", rule({ masking_function: "email OPERATOR(public.+) 'x'" }), "OPERATOR(schema.op) syntax is not allowed"],
    ["regex operator", rule({ masking_function: "email ~ 'x'" }), "operator ~ is not allowed"],
    ["parameter", rule({ masking_function: "$1" }), "parameters ($1, $2, …) are not allowed"],
    ["row constructor", rule({ masking_function: "row(1,2)" }), "row constructors"],
    ["aggregate", rule({ masking_function: "count(*)" }), "count(*) is not allowed"],
    ["window", rule({ masking_function: "lower(email) OVER ()" }), "window functions (OVER) are not allowed"],
    ["VARIADIC", rule({ masking_function: "concat(VARIADIC ARRAY['a'])" }), "VARIADIC is not allowed"],
    ["subscript", rule({ masking_function: "(ARRAY[email])[1]" }), "subscripts and field selections are not allowed"],
    ["other table in a function", rule({ masking_function: "lower(other_table.email)" }), "column reference other_table.email is not allowed; masking expressions may only use columns of users"],
    ["other table column", rule({ masking_function: "orders.note" }), "column reference orders.note is not allowed"],
    ["schema-qualified column", rule({ masking_function: "public.users.email" }), "column reference public.users.email is not allowed"],
    ["whole row", rule({ masking_function: "users.*" }), "* is not allowed"],
    ["unknown column in expression", rule({ masking_function: "lower(emial)" }), 'column "emial" does not exist in table users (did you mean "email"?)'],
    ["dblink", rule({ masking_function: "dblink('x','y')" }), "function dblink is not allowed"],
    ["sleep", rule({ masking_function: "pg_sleep(10)" }), "function pg_sleep is not allowed"],
    ["set_config", rule({ masking_function: "set_config('role','postgres',false)" }), "function set_config is not allowed"],
    ["current_setting", rule({ masking_function: "current_setting('anon.salt')" }), "function current_setting is not allowed"],
    ["lo_import", rule({ masking_function: "lo_import('/etc/passwd')" }), "function lo_import is not allowed"],
    ["query_to_xml", rule({ masking_function: "query_to_xml('select 1', true, true, '')" }), "function query_to_xml is not allowed"],
    ["XML constructor", rule({ masking_function: "xmlelement(name x)" }), "XML expressions are not allowed"],
    ["COLLATE", rule({ masking_function: `'a' COLLATE "C"` }), "COLLATE is not allowed"],
    ["IS DISTINCT FROM", rule({ masking_function: "email IS DISTINCT FROM phone" }), "IS DISTINCT FROM is not allowed"],
    ["backslash (standard_conforming_strings)", rule({ masking_function: "concat('\\', ', (select 1) --')" }), "must not contain backslashes"],
    ["NUL byte", rule({ masking_function: "anon.fake_email()\0; drop table users" }), "must not contain NUL characters"],
    ["function as value", rule({ masking_value: "anon.fake_email()" }), "masking_value must be a constant such as 'CONFIDENTIAL', 0 or NULL, not a function call (anon.fake_email())"],
    ["column as value", rule({ masking_value: "email" }), "not a column reference (email)"],
    ["value cast to regclass", rule({ masking_value: "'pg_authid'::regclass" }), "cast to regclass is not allowed"],
    ["both given", rule({ masking_function: "anon.fake_email()", masking_value: "'x'" }), "masking_rules[0]: give exactly one of masking_function or masking_value"],
    ["neither given", rule({ masking_function: null, masking_value: "  " }), "masking_rules[0]: give exactly one of masking_function or masking_value"],
    ["not a string", rule({ masking_function: 42 as unknown as string }), "masking_function must be a string or null"],
    ["unknown database", rule({ database_name: "shpo", masking_value: "'x'" }), 'database "shpo" does not exist (did you mean "shop"?)'],
    ["prototype key as database", rule({ database_name: "constructor", masking_value: "'x'" }), 'database "constructor" does not exist'],
    ["unknown schema", rule({ schema_name: "publik", masking_value: "'x'" }), 'schema "publik" does not exist in database shop (or has no tables) (did you mean "public"?)'],
    ["anon schema is not a user schema", rule({ schema_name: "anon", table_name: "internal", column_name: "x", masking_value: "0" }), 'schema "anon" does not exist'],
    ["case-sensitive table", rule({ table_name: "Users", masking_value: "'x'" }), 'table "Users" does not exist in schema shop.public (did you mean "users"?)'],
    ["view", rule({ table_name: "user_emails", column_name: "email", masking_value: "'x'" }), 'table "user_emails" does not exist'],
    ["unknown column", rule({ column_name: "emial", masking_value: "'x'" }), 'masking_rules[0]: column "emial" does not exist in table shop.public.users (did you mean "email"?)'],
    ["foreign-key column", rule({ table_name: "orders", column_name: "user_id", masking_value: "0" }), "masking_rules[0]: column orders.user_id references users(id) through foreign key orders_user_id_fkey; mask the referenced primary key users.id instead"],
    ["constant on a UNIQUE column", rule({ column_name: "email", masking_value: "'x'" }), "column users.email is UNIQUE (users_email_key) and the constant 'x' gives every row the same value"],
    ["repeating generator on a UNIQUE column", rule({ column_name: "email", masking_function: "anon.dummy_free_email()" }), "masking_rules[0]: column users.email is UNIQUE (users_email_key) and anon.dummy_free_email() can repeat values; use a unique generator such as pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')"],
    ["hash of a constant on a UNIQUE column", rule({ column_name: "email", masking_function: "anon.hash('x')" }), "is UNIQUE (users_email_key)"],
    ["random value on the primary key", rule({ column_name: "id", masking_function: "anon.random_int_between(1, 10)" }), "column users.id is the PRIMARY KEY (users_pkey)"],
    ["empty identifier", rule({ column_name: "", masking_value: "'x'" }), "column_name must be a non-empty string"],
    ["64-byte identifier", rule({ table_name: "t".repeat(64), masking_value: "'x'" }), "longer than 63 bytes"],
    ["empty expression", rule({ masking_function: "" }), "give exactly one of masking_function or masking_value"],
  ];
  for (const [name, r, fragment] of hostile) {
    test(`refuses: ${name}`, async () => {
      const problems = await validateMaskingRules([r], catalogs);
      assert.ok(problems.length > 0, `accepted ${JSON.stringify(r)}`);
      for (const p of problems) {
        assert.equal(p.index, 0);
        assert.match(p.message, /^masking_rules\[0\]: /);
        assert.match(p.field, /^masking_rules\[0\]/);
      }
      assert.ok(problems.some((p) => p.message.includes(fragment)),
        `expected ${JSON.stringify(fragment)} in ${JSON.stringify(problems.map((p) => p.message), null, 1)}`);
    });
  }

  test("at least 35 hostile cases", () => assert.ok(hostile.length >= 35));

  test("a duplicate is reported on the later rule, naming the earlier", async () => {
    const problems = await validateMaskingRules([happyRules[1]!, happyRules[0]!, { ...happyRules[1]!, masking_value: null }], catalogs);
    assert.deepEqual(problems, [{
      index: 2,
      field: "masking_rules[2]",
      message: "masking_rules[2]: duplicate rule for shop.public.users.phone (already given by masking_rules[0])",
    }]);
  });

  test("reports every problem of every rule, with the right fields", async () => {
    const problems = await validateMaskingRules([
      rule({ masking_function: "pg_sleep(1) + (select 1)" }),
      happyRules[0]!,
      rule({ column_name: "nope", masking_value: "email" }),
    ], catalogs);
    assert.deepEqual(problems.map((p) => [p.index, p.field]), [
      [0, "masking_rules[0].masking_function"],
      [0, "masking_rules[0].masking_function"],
      [2, "masking_rules[2].column_name"],
      [2, "masking_rules[2].masking_value"],
    ]);
  });
});

describe("reading other columns", () => {
  const nameMasked = rule({ column_name: "name", masking_value: "'X'" });
  const leaks: [string, string][] = [
    ["concat", "pg_catalog.concat(name, '')"],
    ["lower", "pg_catalog.lower(name)"],
    ["partial", "anon.partial(name, 1, 'xxx', 1)"],
    ["cast", "name::text"],
    ["CASE", "CASE WHEN phone IS NULL THEN NULL ELSE users.name END"],
    ["coalesce", "coalesce(phone, name)"],
  ];
  for (const [what, expression] of leaks) {
    test(`refuses an expression that reads a masked column (${what})`, async () => {
      const problems = await validateMaskingRules([nameMasked, rule({ masking_function: expression })], catalogs);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0]!.field, "masking_rules[1].masking_function");
      assert.match(problems[0]!.message, /reads column users\.name, which is masked \(masking_rules\[0\]\).*copy name's original value into phone/);
    });
  }

  test("allows its own column, unmasked columns (a primary key seeding pseudo_*), and other tables' masks", async () => {
    const problems = await validateMaskingRules([
      nameMasked,
      rule({ column_name: "email", masking_function: "pg_catalog.concat(anon.pseudo_first_name(id), '-', anon.dummy_uuidv4(), '@example.com')" }),
      rule({ masking_function: "anon.partial(phone, 2, 'XXX', 2) || address" }),
      rule({ table_name: "orders", column_name: "note", masking_function: "pg_catalog.concat(note, total)" }),
    ], catalogs);
    assert.deepEqual(problems, []);
  });

  test("a masked column read before its own rule comes is still refused", async () => {
    const problems = await validateMaskingRules([rule({ masking_function: "pg_catalog.lower(address)" }), rule({ column_name: "address", masking_value: "NULL" })], catalogs);
    assert.deepEqual(problems.map((p) => p.field), ["masking_rules[0].masking_function"]);
  });
});

describe("allow-list", () => {
  test("masking families and harmless pg_catalog functions only", () => {
    assert.ok(isAllowedFunction("anon", "fake_email"));
    assert.ok(isAllowedFunction("anon", "pseudo_first_name"));
    assert.ok(isAllowedFunction("anon", "partial_email"));
    assert.ok(isAllowedFunction(null, "concat") && isAllowedFunction("pg_catalog", "concat"));
    assert.ok(!isAllowedFunction("anon", "init"));
    assert.ok(!isAllowedFunction("anon", "anonymize_table"));
    assert.ok(!isAllowedFunction("anon", "fake_"));
    assert.ok(!isAllowedFunction("anon", "concat"));
    assert.ok(!isAllowedFunction("public", "concat"));
    assert.ok(!isAllowedFunction(null, "fake_email"));
  });
});

describe("labels", () => {
  test("canonicalLabel and parseLabel round-trip", () => {
    assert.equal(canonicalLabel(happyRules[0]!), "MASKED WITH FUNCTION pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')");
    assert.equal(canonicalLabel(rule({ masking_value: "  'CONFIDENTIAL'\n" })), "MASKED WITH VALUE 'CONFIDENTIAL'");
    for (const r of happyRules) {
      const parsed = parseLabel(canonicalLabel(r));
      const expected = r.masking_function ? { masking_function: r.masking_function } : { masking_value: r.masking_value! };
      assert.deepEqual(parsed, expected);
    }
  });

  test("parseLabel reads what the engine accepts and nothing else", () => {
    assert.deepEqual(parseLabel("masked  with\tFunction\n anon.fake_email() "), { masking_function: "anon.fake_email()" });
    assert.deepEqual(parseLabel(" Masked With Value NULL"), { masking_value: "NULL" });
    for (const label of ["NOT MASKED", "MASKED", "TRUSTED", "MASKED WITH FUNCTION", "MASKED WITH VALUE   ",
      "MASKED WITH FUNCTIONanon.fake_email()", "MASKEDWITH FUNCTION x()", "masked with fn x()", "", "garbage"]) {
      assert.equal(parseLabel(label), null, label);
    }
  });

  test("labels added over SQL are read back and re-validated", async () => {
    // The engine's label provider only checks that the expression parses, so
    // it accepts our canonical labels and also a dangerous one; re-validation
    // through parseLabel + validateMaskingRules is what refuses the latter.
    await db.sql.unsafe(`SECURITY LABEL FOR anon ON COLUMN users.phone IS 'MASKED WITH FUNCTION anon.partial(phone, 2, ''XXX-XXXX'', 2)'`);
    await db.sql.unsafe(`SECURITY LABEL FOR anon ON COLUMN users.name IS 'masked with function pg_read_file(''/etc/passwd'')'`);
    const rows = await db.sql<{ column: string; label: string }[]>`
      SELECT a.attname AS column, s.label FROM pg_seclabel s
      JOIN pg_attribute a ON a.attrelid = s.objoid AND a.attnum = s.objsubid
      WHERE s.objoid = 'users'::regclass AND s.provider = 'anon' ORDER BY a.attnum`;
    const rules = rows.map((r) => ({ ...rule({ column_name: r.column }), ...parseLabel(r.label) }));
    const problems = await validateMaskingRules(rules, catalogs);
    assert.deepEqual(problems.map((p) => p.index), [1]);
    assert.match(problems[0]!.message, /function pg_read_file is not allowed/);
  });
});
