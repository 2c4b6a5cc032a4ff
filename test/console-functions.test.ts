// The console's function picker: every named choice is a rule the API accepts
// and the anon engine can run, for every column type the picker offers it on,
// and a stored rule is shown again under its readable name.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { rulesFromForm } from "../src/console/masking-form.ts";
import { choicesFor, maskingChoices, selectionOf, typeClassOf } from "../src/console/masking-functions.ts";
import { DomainError } from "../src/lib/errors.ts";
import { introspectDatabase } from "../src/masking/introspect.ts";
import type { DatabaseCatalog, MaskingRule } from "../src/masking/types.ts";
import { validateMaskingRules } from "../src/masking/validate.ts";
import { createScratchDatabase, type ScratchDatabase } from "./helpers/pg.ts";

/** One column per type the picker knows, with a sample value. */
const columns: { name: string; type: string; sample: string }[] = [
  { name: "c_text", type: "text", sample: "'alice@example.org'" },
  { name: "c_varchar", type: "character varying(255)", sample: "'+33 6 12 34 56 78'" },
  { name: "c_int", type: "integer", sample: "42" },
  { name: "c_bigint", type: "bigint", sample: "4200000000" },
  { name: "c_smallint", type: "smallint", sample: "7" },
  { name: "c_numeric", type: "numeric(10,2)", sample: "123.45" },
  { name: "c_float", type: "double precision", sample: "1.5" },
  { name: "c_real", type: "real", sample: "2.5" },
  { name: "c_date", type: "date", sample: "'1990-05-17'" },
  { name: "c_ts", type: "timestamp without time zone", sample: "'2020-01-01 10:00'" },
  { name: "c_tstz", type: "timestamp with time zone", sample: "'2020-01-01 10:00+00'" },
  { name: "c_uuid", type: "uuid", sample: "'8f14e45f-ceea-467f-a0e6-1a8d3b2c4e5f'" },
  { name: "c_inet", type: "inet", sample: "'192.0.2.1'" },
];

let db: ScratchDatabase;
let catalog: DatabaseCatalog;

before(async () => {
  db = await createScratchDatabase("console_functions");
  await db.sql`CREATE EXTENSION anon CASCADE`;
  await db.sql`SELECT anon.init()`;
  await db.sql.unsafe(`CREATE TABLE public.samples (${columns.map((c) => `${c.name} ${c.type}`).join(", ")})`);
  await db.sql.unsafe(`INSERT INTO public.samples VALUES (${columns.map((c) => c.sample).join(", ")})`);
  catalog = await introspectDatabase(db.sql, "db");
});

after(async () => {
  await db?.drop();
});

const table = () => catalog.tables.find((t) => t.name === "samples")!;

describe("named masking choices", () => {
  test("every column type of the sample table is classified, and every choice is offered on some column", () => {
    const classes = new Set(table().columns.map((c) => typeClassOf(c.dataType)));
    assert.ok(!classes.has("other"), [...classes].join());
    for (const choice of maskingChoices) {
      assert.ok(table().columns.some((c) => choicesFor(c).includes(choice)), `${choice.id} is offered on no column`);
    }
  });

  test("each choice passes the API's validation and runs on the anon engine, on every column it is offered for", async () => {
    let ran = 0;
    for (const column of table().columns) {
      for (const choice of choicesFor(column)) {
        const expression = choice.expression(column.name);
        const rule: MaskingRule = { database_name: "db", schema_name: "public", table_name: "samples", column_name: column.name };
        if (choice.kind === "function") rule.masking_function = expression;
        else rule.masking_value = expression;
        const problems = await validateMaskingRules([rule], { db: catalog });
        assert.deepEqual(problems, [], `${choice.id} on ${column.dataType}`);
        // As the engine applies a rule: col = (expression), with an empty search_path; rolled back.
        const rows = await db.sql
          .begin(async (tx) => {
            await tx`SET LOCAL search_path = ''`;
            const out = await tx.unsafe(`UPDATE public.samples SET "${column.name}" = (${expression}) RETURNING "${column.name}"::text AS v`);
            throw Object.assign(new Error("rollback"), { rows: out });
          })
          .catch((e: Error & { rows?: { v: string | null }[] }) => {
            if (!e.rows) throw new Error(`${choice.id} on ${column.dataType}: ${e.message}`);
            return e.rows;
          });
        assert.equal(rows.length, 1);
        if (choice.id === "null") assert.equal(rows[0]!.v, null);
        if (choice.id === "confidential") assert.equal(rows[0]!.v, "CONFIDENTIAL");
        ran++;
      }
    }
    assert.ok(ran >= 40, `only ${ran} column/choice pairs ran`);
  });

  test("a stored rule is shown under its readable name; other expressions as custom", () => {
    const email = { name: "email", dataType: "text", notNull: true };
    for (const choice of choicesFor(email)) {
      const rule: MaskingRule = { database_name: "d", schema_name: "s", table_name: "t", column_name: "email" };
      rule[choice.kind === "function" ? "masking_function" : "masking_value"] = `  ${choice.expression("email")} `;
      assert.deepEqual(selectionOf(email, rule), { choice: choice.id, expression: "" });
    }
    const custom = { database_name: "d", schema_name: "s", table_name: "t", column_name: "email", masking_function: "pg_catalog.md5(email)" };
    assert.deepEqual(selectionOf(email, custom), { choice: "custom_function", expression: "pg_catalog.md5(email)" });
    assert.deepEqual(selectionOf(email, { ...custom, masking_function: null, masking_value: "'x'" }), { choice: "custom_value", expression: "'x'" });
  });

  test("NULL is not offered for NOT NULL columns; text-only choices not for numbers", () => {
    const ids = (type: string, notNull: boolean) => choicesFor({ name: "x", dataType: type, notNull }).map((c) => c.id);
    assert.ok(ids("text", false).includes("null"));
    assert.ok(!ids("text", true).includes("null"));
    assert.ok(!ids("integer", false).includes("unique_email"));
    assert.deepEqual(new Set(ids("uuid", true)), new Set(["uuid"]));
  });
});

describe("the masking form", () => {
  const id = (column: string) => JSON.stringify(["db", "public", "samples", column]);

  test("rows become rules in page order; 'not masked' rows become none", () => {
    const { rules, selections } = rulesFromForm(
      {
        "col.2": id("c_text"), "fn.2": "unique_email",
        "col.0": id("c_int"), "fn.0": "noise",
        "col.1": id("c_varchar"), "fn.1": "none",
        "col.3": id("c_date"), "fn.3": "custom_function", "expr.3": " anon.dnoise(c_date, '1 year') ",
        "col.4": id("c_uuid"), "fn.4": "custom_value", "expr.4": "NULL",
      },
      [catalog],
    );
    assert.deepEqual(rules.map((r) => [r.column_name, r.masking_function ?? null, r.masking_value ?? null]), [
      ["c_int", 'anon.noise("c_int", 0.1)', null],
      ["c_text", "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')", null],
      ["c_date", "anon.dnoise(c_date, '1 year')", null],
      ["c_uuid", null, "NULL"],
    ]);
    assert.equal(selections.size, 5);
  });

  test("a choice that does not fit the column, an unknown choice or a forged identity is refused naming it", () => {
    const refused = (form: Record<string, string>, pattern: RegExp) =>
      assert.throws(() => rulesFromForm(form, [catalog]), (e: unknown) => e instanceof DomainError && e.kind === "invalid" && pattern.test(e.message));
    refused({ "col.0": id("c_int"), "fn.0": "unique_email" }, /samples\.c_int is integer: "Random unique email \(uuid@example\.com\)" does not fit it/);
    refused({ "col.0": id("c_int"), "fn.0": "drop_table" }, /fn\.0: "drop_table" is not a masking choice/);
    refused({ "col.7": "[\"db\"]", "fn.7": "null" }, /col\.7: not a column of this page/);
  });
});
