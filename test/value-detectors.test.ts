// The value detectors on their own: what they must recognise, and the
// look-alikes they must not (ids, versions, order numbers, product names).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { columnEvidence } from "../src/masking/value-evidence.ts";
import {
  detectInText,
  isCardNumber,
  isEmail,
  isIban,
  isIpAddress,
  isNationalId,
  isPersonName,
  isPhone,
  luhnValid,
} from "../src/masking/value-detectors.ts";

describe("value detectors", () => {
  test("e-mail addresses", () => {
    for (const v of ["jane.doe@example.com", "a+b@mail.co.uk", "X_Y@sub.domain.io"]) assert.ok(isEmail(v), v);
    for (const v of ["jane.doe@", "@example.com", "jane doe@example.com", "foo@bar", "2024-01-01"]) assert.ok(!isEmail(v), v);
  });

  test("phone numbers, not ids", () => {
    for (const v of ["+33 6 12 34 56 78", "+1 (555) 123-4567", "0044 20 7946 0958", "06.12.34.56.78", "0612345678", "(555) 123-4567"]) {
      assert.ok(isPhone(v), v);
    }
    for (const v of ["12345678", "2024-01-15", "1.2.3", "42", "4111111111111111", "B-000123"]) assert.ok(!isPhone(v), v);
  });

  test("IBAN: the mod-97 check decides", () => {
    assert.ok(isIban("FR14 2004 1010 0505 0001 3M02 606"));
    assert.ok(isIban("DE89370400440532013000"));
    assert.ok(isIban("GB82WEST12345698765432"));
    assert.ok(!isIban("DE89370400440532013001"), "one digit off");
    assert.ok(!isIban("XX00 ABCD EFGH IJKL"), "shape only");
  });

  test("card numbers: Luhn and an issuer prefix", () => {
    assert.ok(luhnValid("79927398713"));
    assert.ok(!luhnValid("79927398710"));
    for (const v of ["4111 1111 1111 1111", "5500-0000-0000-0004", "340000000000009", "6011000000000004"]) assert.ok(isCardNumber(v), v);
    assert.ok(!isCardNumber("4111111111111112"), "bad check digit");
    assert.ok(!isCardNumber("9999999999999995"), "Luhn-valid but no issuer starts with 9");
    assert.ok(!isCardNumber("41111"), "too short");
  });

  test("IP addresses, v4 and v6, with an inet prefix length", () => {
    for (const v of ["203.0.113.45", "10.0.0.1/32", "2001:db8::1", "::1"]) assert.ok(isIpAddress(v), v);
    for (const v of ["256.1.1.1", "1.2.3", "2.14.3", "abc"]) assert.ok(!isIpAddress(v), v);
  });

  test("national ids with their check digits", () => {
    assert.ok(isNationalId("123-45-6789"), "US SSN");
    assert.ok(!isNationalId("000-45-6789"), "SSN area 000 is never issued");
    assert.ok(isNationalId("AB 12 34 56 C"), "UK NINO");
    assert.ok(isNationalId("1 85 05 78 006 084 91"), "French NIR with its key");
    assert.ok(!isNationalId("1 85 05 78 006 084 37"), "French NIR, wrong key");
    assert.ok(isNationalId("12345678Z"), "Spanish DNI");
    assert.ok(!isNationalId("12345678A"), "Spanish DNI, wrong letter");
  });

  test("person names, not product names", () => {
    for (const v of ["Jane Doe", "Marie-Claire Dubois", "WEBER, Anna", "José García López"]) assert.ok(isPersonName(v), v);
    for (const v of ["Blue Widget", "Steel Hammer 300g", "jane doe", "Anna", "New York City"]) assert.ok(!isPersonName(v), v);
  });

  test("free text: spans checked by the whole-value detectors", () => {
    assert.deepEqual([...detectInText("Please call me at +44 20 7946 0958 after six")], ["phone"]);
    assert.deepEqual([...detectInText("write to jane.doe@example.com, thanks")], ["email"]);
    assert.deepEqual([...detectInText("order 12345678 shipped in 2 boxes, ref 4411")], []);
  });
});

describe("column evidence", () => {
  const repeat = (values: (string | null)[], n: number) => Array.from({ length: n }, (_, i) => values[i % values.length]!);

  test("a share of the sampled non-null rows, never the values", () => {
    const values = [...repeat(["jane@example.com", "max@example.org", "not an address"], 90), ...repeat([null], 10)];
    const [evidence] = columnEvidence(values, { json: false, numeric: false });
    assert.deepEqual(evidence, { detector: "email", found_in: "value", share: 0.667, sampled: 90 });
    assert.ok(!JSON.stringify(columnEvidence(values, { json: false, numeric: false })).includes("@"));
  });

  test("below the threshold nothing is reported", () => {
    const values = repeat(["jane@example.com", "a", "b", "c", "d", "e"], 60);
    assert.deepEqual(columnEvidence(values, { json: false, numeric: false }), []);
  });

  test("JSON: keys that name personal data, and personal values at any depth", () => {
    const docs = repeat(['{"contact": {"emailAddress": "x@y.io"}}', '{"tags": ["a", {"who": "Jane Doe"}]}'], 20);
    const evidence = columnEvidence(docs, { json: true, numeric: false });
    const found = new Set(evidence.map((e) => `${e.found_in}:${e.detector}`));
    assert.ok(found.has("json_key:email"), JSON.stringify(evidence));
    assert.ok(found.has("json_value:email"));
    assert.ok(found.has("json_value:person_name"));
    const products = repeat(['{"name": "Blue Widget", "price": 3}'], 20);
    assert.deepEqual(columnEvidence(products, { json: true, numeric: false }), [], "a product's name is no person");
  });

  test("numeric columns: only card numbers", () => {
    assert.deepEqual(columnEvidence(repeat(["4111111111111111", "5500000000000004"], 10), { json: false, numeric: true })[0]?.detector, "card_number");
    assert.deepEqual(columnEvidence(repeat(["0612345678"], 10), { json: false, numeric: true }), []);
  });
});
