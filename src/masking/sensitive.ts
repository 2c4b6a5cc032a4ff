// Which columns look like personal data, from their names and types alone (no
// row is read), and a masking rule to suggest for each. Suggestions are only
// offered when they pass the same validation as user rules.
import type { DatabaseCatalog, MaskingRule, TableInfo } from "./types.ts";
import { validateMaskingRules } from "./validate.ts";

export interface SensitiveColumn {
  database_name: string;
  schema_name: string;
  table_name: string;
  column_name: string;
  data_type: string;
  category: string;
  suggested_rule?: MaskingRule;
  /** Why no rule is suggested (e.g. a foreign key: mask the referenced key). */
  note?: string;
}

type Suggest = (column: string, type: string, unique: boolean) => Pick<MaskingRule, "masking_function" | "masking_value">;

const isText = (type: string): boolean => /^(text|character varying|character|varchar|citext)/.test(type);
const q = (column: string): string => `"${column.replaceAll('"', '""')}"`;

/** Name patterns, tested on the lower-cased column name; first match wins. */
const categories: { category: string; pattern: RegExp; suggest: Suggest }[] = [
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

function isUniqueAlone(table: TableInfo, column: string): boolean {
  return table.uniqueColumnSets.some((set) => set.length === 1 && set[0] === column);
}

/** Sensitive-looking columns of every catalog, with validated suggestions. */
export async function scanSensitiveColumns(catalogs: Record<string, DatabaseCatalog>): Promise<SensitiveColumn[]> {
  const found: SensitiveColumn[] = [];
  for (const [database, catalog] of Object.entries(catalogs)) {
    for (const table of catalog.tables) {
      for (const col of table.columns) {
        const match = categories.find((c) => c.pattern.test(col.name.toLowerCase()));
        if (!match) continue;
        const entry: SensitiveColumn = {
          database_name: database,
          schema_name: table.schema,
          table_name: table.name,
          column_name: col.name,
          data_type: col.dataType,
          category: match.category,
        };
        const rule: MaskingRule = {
          database_name: database,
          schema_name: table.schema,
          table_name: table.name,
          column_name: col.name,
          ...match.suggest(col.name, col.dataType, isUniqueAlone(table, col.name)),
        };
        if (rule.masking_value === "NULL" && col.notNull) {
          entry.note = "NOT NULL column: choose a masking function that fits its type";
        } else {
          const problems = await validateMaskingRules([rule], { [database]: catalog });
          if (problems.length === 0) entry.suggested_rule = rule;
          else entry.note = problems.map((p) => p.message.replace(/^masking_rules\[0\]: /, "")).join("; ");
        }
        found.push(entry);
      }
    }
  }
  return found;
}
