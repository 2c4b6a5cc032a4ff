// The anon engine's masking functions: names, signatures, types and shapes as
// PostgreSQL Anonymizer documents them, run with search_path = '' as masking does.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createScratchDatabase, type ScratchDatabase } from "./helpers/pg.ts";

let db: ScratchDatabase;

before(async () => {
  db = await createScratchDatabase("anon_functions");
  await db.sql`CREATE EXTENSION anon CASCADE`;
  assert.equal((await one("SELECT anon.init() AS v")).v, true);
});

after(async () => {
  await db?.drop();
});

async function one(query: string): Promise<Record<string, any>> {
  const [row] = await db.sql.begin(async (tx) => {
    await tx`SET LOCAL search_path = ''`;
    return tx.unsafe(query);
  });
  return row as Record<string, any>;
}

/** Calls `expr` n times in one query; returns the values. */
async function many(expr: string, n: number): Promise<any[]> {
  const rows = await db.sql.begin(async (tx) => {
    await tx`SET LOCAL search_path = ''`;
    return tx.unsafe(`SELECT ${expr} AS v FROM pg_catalog.generate_series(1, ${n}) g`);
  });
  return rows.map((r) => r.v);
}

const emailPattern = /^[a-z0-9._-]+@[a-z0-9.-]+\.[a-z]{2,}$/;

function luhnValid(digits: string): boolean {
  let sum = 0;
  [...digits].reverse().forEach((d, i) => {
    let n = Number(d);
    if (i % 2 === 1) n = n * 2 > 9 ? n * 2 - 9 : n * 2;
    sum += n;
  });
  return sum % 10 === 0;
}

function ibanValid(iban: string): boolean {
  const moved = iban.slice(4) + iban.slice(0, 4);
  const numeric = [...moved].map((c) => (/[A-Z]/.test(c) ? String(c.charCodeAt(0) - 55) : c)).join("");
  return BigInt(numeric) % 97n === 1n;
}

describe("fake_* and dummy_* generators", () => {
  test("emails look like emails and do not collide over 5,000 rows", async () => {
    for (const fn of ["anon.fake_email()", "anon.dummy_free_email()", "anon.dummy_safe_email()"]) {
      const values = await many(fn, 5000);
      values.forEach((v) => assert.match(v, emailPattern, `${fn} gave ${v}`));
      assert.ok(new Set(values).size >= 4999, `${fn}: ${5000 - new Set(values).size} duplicates`);
    }
    const safe = await many("anon.dummy_safe_email()", 50);
    safe.forEach((v) => assert.match(v, /@example\.(com|org|net)$/));
  });

  test("names, places and companies are non-empty text", async () => {
    const row = await one(`SELECT anon.fake_first_name() a, anon.fake_last_name() b, anon.fake_city() c, anon.fake_country() d,
      anon.fake_company() e, anon.fake_address() f, anon.dummy_first_name() g, anon.dummy_last_name() h, anon.dummy_name() i,
      anon.dummy_city_name() j, anon.dummy_street_name() k, anon.dummy_company_name() l, anon.dummy_username() m`);
    for (const [k, v] of Object.entries(row)) {
      assert.equal(typeof v, "string", k);
      assert.ok(v.length > 1, `${k} = ${v}`);
    }
    assert.match(row.i, /^\S+ \S+/, "dummy_name is 'First Last'");
    assert.match(row.f, /\d/, "an address has a number");
  });

  test("codes and numbers have their formats and check digits", async () => {
    const row = await one(`SELECT anon.fake_postcode() p, anon.dummy_zip_code() z, anon.random_zip() r, anon.fake_iban() iban,
      anon.fake_siret() siret, anon.dummy_credit_card_number() card, anon.dummy_ipv4() ip, anon.dummy_uuidv4() uuid,
      pg_catalog.pg_typeof(anon.dummy_uuidv4())::text uuid_type, anon.dummy_phone_number() phone,
      anon.dummy_cell_number() cell, anon.random_phone() rp, anon.random_phone('+33') rp33`);
    assert.match(row.p, /^\d{5}$/);
    assert.match(row.z, /^\d{5}$/);
    assert.match(row.r, /^\d{5}$/);
    assert.match(row.iban, /^FR\d{25}$/);
    assert.ok(ibanValid(row.iban), `IBAN check digits of ${row.iban}`);
    assert.match(row.siret, /^\d{14}$/);
    assert.ok(luhnValid(row.siret), `Luhn of ${row.siret}`);
    assert.match(row.card, /^4\d{15}$/);
    assert.ok(luhnValid(row.card), `Luhn of ${row.card}`);
    const octets = row.ip.split(".").map(Number);
    assert.equal(octets.length, 4);
    assert.ok(octets.every((o: number) => o >= 0 && o <= 255));
    assert.match(row.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(row.uuid_type, "uuid");
    assert.match(row.phone, /\d{3}.*\d{4}$/);
    assert.match(row.cell, /\d{4}$/);
    assert.match(row.rp, /^0\d{9}$/);
    assert.match(row.rp33, /^\+33\d{9}$/);
  });
});

describe("pseudo_*: deterministic per seed and salt", () => {
  test("same seed and salt, same value; another salt, another value", async () => {
    for (const fn of ["first_name", "last_name", "email", "city", "company", "country"]) {
      const row = await one(`SELECT anon.pseudo_${fn}(42) a, anon.pseudo_${fn}(42) b, anon.pseudo_${fn}('x'::text, 'salt1') c,
        anon.pseudo_${fn}('x'::text, 'salt1') d`);
      assert.equal(row.a, row.b, `pseudo_${fn} is stable`);
      assert.equal(row.c, row.d);
      assert.equal(typeof row.a, "string");
    }
    const salts = await many("anon.pseudo_email('seed'::text, g::text)", 50);
    assert.ok(new Set(salts).size >= 45, "the salt changes the pseudonym");
    const seeds = await many("anon.pseudo_email(g)", 3000);
    seeds.forEach((v) => assert.match(v, emailPattern));
    assert.ok(new Set(seeds).size >= 2995, "distinct seeds rarely collide");
    const [before] = await many("anon.pseudo_first_name(7)", 1);
    await one("SELECT anon.init()");
    assert.equal((await one("SELECT anon.pseudo_first_name(7) v")).v, before, "stable across init()");
  });
});

describe("random_*, partial, hash, noise, generalize, lorem", () => {
  test("random values stay within their bounds and types", async () => {
    const row = await one(`SELECT anon.random_string(12) s, anon.random_int_between(5, 7) i, anon.random_bigint_between(10, 10) b,
      pg_catalog.pg_typeof(anon.random_date())::text dt, anon.random_date_between('2020-01-01', '2020-01-31') d,
      anon.random_in(ARRAY['a','b','c']) r, anon.random_hash('seed') h`);
    assert.match(row.s, /^[a-z0-9]{12}$/);
    assert.ok(row.i >= 5 && row.i <= 7);
    assert.equal(String(row.b), "10");
    assert.equal(row.dt, "timestamp with time zone");
    assert.ok(row.d >= new Date("2020-01-01") && row.d <= new Date("2020-01-31T23:59:59Z"));
    assert.ok(["a", "b", "c"].includes(row.r));
    assert.match(row.h, /^[0-9a-f]{64,}$/);
    const ints = await many("anon.random_int_between(1, 3)", 300);
    assert.deepEqual([...new Set(ints)].sort(), [1, 2, 3], "both bounds are reachable");
  });

  test("partial and partial_email keep the documented ends", async () => {
    const row = await one(`SELECT anon.partial('123456789', 1, '***', 3) a, anon.partial_email('daamien@gmail.com') b,
      anon.partial('06-12-34-56-78', 2, 'XXX-XXXX', 2) c`);
    assert.equal(row.a, "1***789");
    assert.equal(row.b, "da******@gm******.com");
    assert.equal(row.c, "06XXX-XXXX78");
  });

  test("hash and digest are hex digests that depend on salt and algorithm", async () => {
    const row = await one(`SELECT anon.digest('x', 'salt', 'sha256') a, anon.digest('x', 'salt', 'md5') b,
      pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to('xsalt', 'UTF8')), 'hex') expected, anon.hash('x') h1, anon.hash('x') h2`);
    assert.equal(row.a, row.expected);
    assert.equal(row.b.length, 32);
    assert.equal(row.h1, row.h2, "hash() is deterministic");
    await assert.rejects(one("SELECT anon.digest('x', 's', 'sha1')"), /sha1/);
  });

  test("noise and dnoise move values within the ratio or range, keeping the type", async () => {
    const values = await many("anon.noise(100, 0.1)", 200);
    assert.ok(values.every((v) => v >= 90 && v <= 110), `noise out of range: ${values.filter((v) => v < 90 || v > 110)}`);
    assert.ok(new Set(values).size > 1);
    const row = await one(`SELECT pg_catalog.pg_typeof(anon.noise(1.5::numeric, 0.2))::text t,
      anon.dnoise('2020-06-15'::date, '10 days') d, pg_catalog.pg_typeof(anon.dnoise('2020-06-15'::date, '10 days'))::text dt`);
    assert.equal(row.t, "numeric");
    assert.equal(row.dt, "date");
    assert.ok(Math.abs(row.d.getTime() - new Date("2020-06-15").getTime()) <= 10 * 86400_000);
  });

  test("generalize_* give the enclosing range", async () => {
    const row = await one(`SELECT anon.generalize_int4range(42)::text a, anon.generalize_int4range(42, 5)::text b,
      anon.generalize_int8range(1234, 1000)::text c, anon.generalize_numrange(4.2, 2)::text d,
      anon.generalize_daterange('2021-05-17', 'year')::text e, anon.generalize_tsrange('2021-05-17 10:00', 'month')::text f,
      anon.generalize_tstzrange('2021-05-17 10:00+00', 'decade') IS NOT NULL g, anon.generalize_int4range(NULL) IS NULL h`);
    assert.equal(row.a, "[40,50)");
    assert.equal(row.b, "[40,45)");
    assert.equal(row.c, "[1000,2000)");
    assert.equal(row.d, "[4.0,6.0)", "numeric keeps the value's scale");
    assert.equal(row.e, "[2021-01-01,2022-01-01)");
    assert.equal(row.f, '["2021-05-01 00:00:00","2021-06-01 00:00:00")');
    assert.equal(row.g, true);
    assert.equal(row.h, true);
  });

  test("lorem_ipsum counts paragraphs, words or characters", async () => {
    const row = await one(`SELECT anon.lorem_ipsum() p5, anon.lorem_ipsum(2) p2, anon.lorem_ipsum(words := 7) w7,
      anon.lorem_ipsum(characters := 20) c20`);
    assert.equal(row.p5.split("\n").length, 5);
    assert.equal(row.p2.split("\n").length, 2);
    assert.equal(row.w7.split(/\s+/).length, 7);
    assert.equal(row.c20.length, 20);
  });
});
