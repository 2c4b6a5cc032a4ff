// The console's function picker: the common anon masking functions under
// readable names, each offered only for the column types it can fill. Every
// choice is an ordinary rule (masking_function or masking_value) that the API
// validates like any other; test/console-functions.test.ts runs each one on
// the anon engine against a column of each type it is offered for.
import type { ColumnInfo, MaskingRule } from "../masking/types.ts";

export type TypeClass = "text" | "integer" | "decimal" | "date" | "timestamp" | "uuid" | "inet" | "other";

export function typeClassOf(dataType: string): TypeClass {
  if (/^(text|character varying|character|varchar|bpchar|citext|name)\b/.test(dataType)) return "text";
  if (/^(smallint|integer|bigint)$/.test(dataType)) return "integer";
  if (/^(numeric|real|double precision)\b/.test(dataType)) return "decimal";
  if (dataType === "date") return "date";
  if (/^timestamp\b/.test(dataType)) return "timestamp";
  if (dataType === "uuid") return "uuid";
  if (dataType === "inet") return "inet";
  return "other";
}

export interface MaskingChoice {
  id: string;
  label: string;
  kind: "function" | "value";
  /** Column types the choice can fill; "any" for all. */
  types: readonly TypeClass[] | "any";
  /** Offered for NOT NULL columns? (NULL is not.) */
  notNullOk: boolean;
  expression(column: string): string;
}

/** A column reference inside an expression, quoted as the sensitive-column scan quotes it. */
const ref = (column: string): string => `"${column.replaceAll('"', '""')}"`;

const fn = (id: string, label: string, types: readonly TypeClass[], expression: (column: string) => string): MaskingChoice => ({
  id, label, kind: "function", types, notNullOk: true, expression,
});

const TEXT: readonly TypeClass[] = ["text"];
const NUMBERS: readonly TypeClass[] = ["integer", "decimal"];
const DATES: readonly TypeClass[] = ["date", "timestamp"];

export const NOT_MASKED = "none";
export const CUSTOM_FUNCTION = "custom_function";
export const CUSTOM_VALUE = "custom_value";

export const maskingChoices: readonly MaskingChoice[] = [
  fn("unique_email", "Random unique email (uuid@example.com)", TEXT, () => "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')"),
  fn("safe_email", "Fake email at a safe domain", TEXT, () => "anon.dummy_safe_email()"),
  fn("partial_email", "Email with most letters hidden", TEXT, (c) => `anon.partial_email(${ref(c)})`),
  fn("first_name", "Fake first name", TEXT, () => "anon.dummy_first_name()"),
  fn("last_name", "Fake last name", TEXT, () => "anon.dummy_last_name()"),
  fn("full_name", "Fake full name", TEXT, () => "anon.dummy_name()"),
  fn("username", "Fake username", TEXT, () => "anon.dummy_username()"),
  fn("unique_username", "Random unique username", TEXT, () => "pg_catalog.concat('user_', anon.dummy_uuidv4())"),
  fn("phone", "Fake phone number", TEXT, () => "anon.dummy_phone_number()"),
  fn("partial", "Keep the first 2 and last 2 characters", TEXT, (c) => `anon.partial(${ref(c)}, 2, 'XXXXXX', 2)`),
  fn("address", "Fake street address", TEXT, () => "anon.fake_address()"),
  fn("city", "Fake city", TEXT, () => "anon.dummy_city_name()"),
  fn("postcode", "Fake postal code", TEXT, () => "anon.dummy_zip_code()"),
  fn("company", "Fake company name", TEXT, () => "anon.dummy_company_name()"),
  fn("iban", "Fake IBAN", TEXT, () => "anon.fake_iban()"),
  fn("card", "Fake credit card number", TEXT, () => "anon.dummy_credit_card_number()"),
  fn("ipv4_text", "Fake IPv4 address", TEXT, () => "anon.dummy_ipv4()"),
  fn("ipv4", "Fake IPv4 address", ["inet"], () => "anon.dummy_ipv4()::inet"),
  fn("hash", "Hash of the value (SHA-256, same input, same output)", TEXT, (c) => `anon.hash(${ref(c)})`),
  fn("uuid", "Random UUID", ["uuid", "text"], () => "anon.dummy_uuidv4()"),
  fn("noise", "Add up to ±10 % noise", NUMBERS, (c) => `anon.noise(${ref(c)}, 0.1)`),
  fn("random_int", "Random number from 0 to 1000", ["integer"], () => "anon.random_int_between(0, 1000)"),
  fn("date_noise", "Shift by up to ±2 years", DATES, (c) => `anon.dnoise(${ref(c)}, '2 years')`),
  { id: "confidential", label: "The text CONFIDENTIAL", kind: "value", types: TEXT, notNullOk: true, expression: () => "'CONFIDENTIAL'" },
  { id: "null", label: "Empty (NULL)", kind: "value", types: "any", notNullOk: false, expression: () => "NULL" },
];

export const customChoices = [
  { id: CUSTOM_FUNCTION, label: "Custom expression…", kind: "function" as const },
  { id: CUSTOM_VALUE, label: "Custom constant…", kind: "value" as const },
];

/** The choices a column can take, in picker order. */
export function choicesFor(column: ColumnInfo): MaskingChoice[] {
  const type = typeClassOf(column.dataType);
  return maskingChoices.filter((c) => (c.types === "any" || c.types.includes(type)) && (c.notNullOk || !column.notNull));
}

export const ruleExpression = (rule: MaskingRule): { kind: "function" | "value"; text: string } | null => {
  if (rule.masking_function?.trim()) return { kind: "function", text: rule.masking_function.trim() };
  if (rule.masking_value?.trim()) return { kind: "value", text: rule.masking_value.trim() };
  return null;
};

/** What the picker shows for a column: a named choice when the rule is one, else a custom expression. */
export function selectionOf(column: ColumnInfo, rule: MaskingRule | undefined): { choice: string; expression: string } {
  const expr = rule ? ruleExpression(rule) : null;
  if (!expr) return { choice: NOT_MASKED, expression: "" };
  const named = choicesFor(column).find((c) => c.kind === expr.kind && c.expression(column.name) === expr.text);
  if (named) return { choice: named.id, expression: "" };
  return { choice: expr.kind === "function" ? CUSTOM_FUNCTION : CUSTOM_VALUE, expression: expr.text };
}

/** A readable name for a rule: the choice's label, or the expression itself. */
export function describeRule(column: ColumnInfo | undefined, rule: MaskingRule): string {
  const expr = ruleExpression(rule);
  if (!expr) return "not masked";
  const named = column && choicesFor(column).find((c) => c.kind === expr.kind && c.expression(column.name) === expr.text);
  return named ? named.label : expr.kind === "function" ? expr.text : `the constant ${expr.text}`;
}
