// What kinds of personal data we recognise, how a column name gives one away,
// and which masking rule to suggest for each kind.

export type Suggest = (
  column: string,
  type: string,
  unique: boolean,
  notNull: boolean,
) => { masking_function?: string; masking_value?: string };

export const isText = (type: string): boolean => /^(text|character varying|character|varchar|citext)/.test(type);
export const q = (column: string): string => `"${column.replaceAll('"', '""')}"`;

/** Name patterns, tested on the lower-cased column name; first match wins. */
export const categories: { category: string; pattern: RegExp; suggest: Suggest }[] = [
  {
    category: "email",
    pattern: /(^|_)e?mail(_?address)?($|_)/,
    suggest: (_c, _t, unique) => ({
      masking_function: unique ? "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')" : "anon.dummy_safe_email()",
    }),
  },
  { category: "phone", pattern: /(^|_)(phone|mobile|cell|tel|telephone|fax)(_?(number|no))?($|_)/, suggest: (c) => ({ masking_function: `anon.partial(${q(c)}, 2, 'XXXXXX', 2)` }) },
  { category: "first name", pattern: /(^|_)(first_?name|given_?name|forename)($|_)/, suggest: () => ({ masking_function: "anon.dummy_first_name()" }) },
  { category: "last name", pattern: /(^|_)(last_?name|surname|family_?name)($|_)/, suggest: () => ({ masking_function: "anon.dummy_last_name()" }) },
  { category: "name", pattern: /^(name|full_?name|display_?name|contact_?name|customer_?name)$/, suggest: () => ({ masking_function: "anon.dummy_name()" }) },
  { category: "username", pattern: /(^|_)(user_?name|login|nickname)$/, suggest: (_c, _t, unique) => ({ masking_function: unique ? "pg_catalog.concat('user_', anon.dummy_uuidv4())" : "anon.dummy_username()" }) },
  { category: "address", pattern: /(^|_)(address|street|addr)(_?line_?\d)?($|_)/, suggest: () => ({ masking_function: "anon.fake_address()" }) },
  { category: "city", pattern: /(^|_)(city|town)($|_)/, suggest: () => ({ masking_function: "anon.dummy_city_name()" }) },
  { category: "postcode", pattern: /(^|_)(zip|zip_?code|post_?code|postal_?code)($|_)/, suggest: () => ({ masking_function: "anon.dummy_zip_code()" }) },
  { category: "birth date", pattern: /(^|_)(birth|dob|birthday|date_of_birth|birth_?date)($|_)/, suggest: (c, t) => (/date|timestamp/.test(t) ? { masking_function: `anon.dnoise(${q(c)}, '2 years')` } : { masking_value: "NULL" }) },
  { category: "national id", pattern: /(^|_)(ssn|social_?security|national_?id|passport|tax_?id|vat_?number|nir|insee)($|_)/, suggest: () => ({ masking_value: "NULL" }) },
  { category: "bank account", pattern: /(^|_)(iban|bic|account_?number|bank_?account)($|_)/, suggest: (_c, t) => (isText(t) ? { masking_function: "anon.fake_iban()" } : { masking_value: "NULL" }) },
  { category: "card number", pattern: /(^|_)(card_?number|credit_?card|cc_?number|pan)($|_)/, suggest: (_c, t) => (isText(t) ? { masking_function: "anon.dummy_credit_card_number()" } : { masking_value: "NULL" }) },
  { category: "ip address", pattern: /(^|_)(ip|ip_?address|remote_?addr|client_?ip)($|_)/, suggest: (_c, t) => ({ masking_function: t === "inet" ? "anon.dummy_ipv4()::inet" : "anon.dummy_ipv4()" }) },
  { category: "secret", pattern: /(^|_)(password|passwd|pass_?hash|password_?hash|secret|token|api_?key|otp|salt)($|_)/, suggest: (c) => ({ masking_function: `anon.hash(${q(c)})` }) },
  { category: "location", pattern: /(^|_)(lat|lng|lon|latitude|longitude|geo_?location)($|_)/, suggest: (c, t) => (/double|real|numeric/.test(t) ? { masking_function: `anon.noise(${q(c)}, 0.1)` } : { masking_value: "NULL" }) },
];

/** Kinds found only by looking at values; their names give nothing away. */
export const valueOnlyCategories: { category: string; suggest: Suggest }[] = [
  {
    category: "personal data in JSON",
    suggest: (_c, _t, _u, notNull) => ({ masking_value: notNull ? "'{}'" : "NULL" }),
  },
  {
    category: "personal data in free text",
    suggest: (_c, t, _u, notNull) => (isText(t) ? { masking_function: "anon.lorem_ipsum(0, 12)" } : { masking_value: notNull ? "''" : "NULL" }),
  },
];

/** The kind a column name gives away, if any (first match wins). */
export function categoryOfName(name: string): (typeof categories)[number] | undefined {
  const lower = name.toLowerCase();
  return categories.find((c) => c.pattern.test(lower));
}

export function suggestionFor(category: string): Suggest | undefined {
  return (categories.find((c) => c.category === category) ?? valueOnlyCategories.find((c) => c.category === category))?.suggest;
}
