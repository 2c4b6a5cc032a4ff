// A generated parent database for the detection test: 6 tables, 40 columns,
// 15 of which hold personal data — five under names that say so, eight under
// names that do not, one inside JSON, one inside free text. The other 25 are
// the look-alikes real schemas have: ids, order numbers, versions, SKUs,
// user agents, product names and descriptions, settings documents.
import { randomBytes } from "node:crypto";
import { connect, testServerUrl, type Sql } from "./pg.ts";

/** table.column of every column that holds personal data. */
export const PERSONAL_COLUMNS = [
  "customers.email", "customers.full_name", "customers.billing_address", "customers.contact", "customers.preferences",
  "payments.instrument", "payments.ref",
  "sessions.origin", "sessions.peer",
  "employees.code", "employees.mobile", "employees.date_of_birth", "employees.registration",
  "tickets.body",
  "products.owner_label",
] as const;

export const ROWS = { customers: 5000, payments: 3000, sessions: 8000, employees: 1200, tickets: 2000, products: 500 } as const;

const SCHEMA = `
CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL, full_name text, billing_address text, contact text,
  tier text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), preferences jsonb, settings jsonb);
CREATE TABLE payments (id bigserial PRIMARY KEY, amount numeric(10,2) NOT NULL, currency char(3) NOT NULL, instrument text,
  ref text, order_number bigint NOT NULL, status text NOT NULL);
CREATE TABLE sessions (id uuid PRIMARY KEY, origin text, peer inet, user_agent text, started_at timestamptz NOT NULL);
CREATE TABLE employees (id serial PRIMARY KEY, code text, badge text NOT NULL, department text, mobile text,
  date_of_birth date, desk_number int, registration text);
CREATE TABLE tickets (id serial PRIMARY KEY, subject text NOT NULL, body text, priority int NOT NULL, channel text NOT NULL);
CREATE TABLE products (sku text PRIMARY KEY, title text NOT NULL, description text, version text, color text, owner_label text);
`;

// A seeded generator: the same database on every run.
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ["Anna", "Lukas", "Marie", "Jean", "Priya", "Oluwaseun", "Siobhan", "Mateus", "Sofia", "David", "Yuki", "Ahmed", "Ingrid", "Carlos", "Emma", "Thomas"];
const LAST = ["Weber", "Dubois", "Okafor", "Nakamura", "García", "Smith", "Rossi", "Kowalski", "Nguyen", "Müller", "Jensen", "Silva"];
const STREETS = ["Rue de la Paix", "Hauptstraße", "High Street", "Calle Mayor", "Via Roma"];
const PRODUCTS = ["Widget", "Hammer", "Lamp", "Kettle", "Chair", "Backpack"];
const ADJECTIVES = ["Blue", "Steel", "Compact", "Deluxe", "Folding", "Vintage"];

function digits(r: () => number, n: number): string {
  return Array.from({ length: n }, () => Math.floor(r() * 10)).join("");
}

function luhnDigit(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

function iban(r: () => number): string {
  const bban = digits(r, 23);
  const check = 98n - (BigInt(`${bban}152700`) % 97n); // F=15, R=27, then "00"
  return `FR${String(check).padStart(2, "0")}${bban}`.replace(/(.{4})/g, "$1 ").trim();
}

function nir(r: () => number): string {
  const body = `${1 + Math.floor(r() * 2)}${digits(r, 2)}${String(1 + Math.floor(r() * 12)).padStart(2, "0")}${digits(r, 8)}`;
  const key = String(97n - (BigInt(body) % 97n)).padStart(2, "0");
  return `${body[0]} ${body.slice(1, 3)} ${body.slice(3, 5)} ${body.slice(5, 7)} ${body.slice(7, 10)} ${body.slice(10, 13)} ${key}`;
}

function rows(r: () => number) {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  const name = () => `${pick(FIRST)} ${pick(LAST)}`;
  const phone = () => `+${pick(["33 6", "49 151", "44 7700"])} ${digits(r, 3)} ${digits(r, 4)}`;
  const customers = Array.from({ length: ROWS.customers }, (_, i) => [
    `${pick(FIRST).toLowerCase()}.${i}@${pick(["mail.example", "post.example", "web.example"])}.com`,
    name(),
    `${1 + Math.floor(r() * 200)} ${pick(STREETS)}`,
    phone(),
    pick(["gold", "silver", "bronze"]),
    JSON.stringify(r() < 0.6 ? { newsletter: true, emergency_contact: { name: name(), phone: phone() } } : { newsletter: false }),
    JSON.stringify({ theme: pick(["dark", "light"]), page_size: pick([25, 50, 100]), language: pick(["en", "fr", "de"]) }),
  ]);
  const payments = Array.from({ length: ROWS.payments }, () => {
    const card = `4${digits(r, 14)}`;
    return [
      (r() * 500).toFixed(2), pick(["EUR", "USD", "GBP"]), `${card}${luhnDigit(card)}`.replace(/(.{4})/g, "$1 ").trim(),
      iban(r), `${1 + Math.floor(r() * 9)}${digits(r, 15)}`, pick(["paid", "refunded", "pending"]),
    ];
  });
  const sessions = Array.from({ length: ROWS.sessions }, () => {
    const ip = () => `${1 + Math.floor(r() * 223)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
    const ua = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${100 + Math.floor(r() * 30)}.0 Safari/537.36`;
    return [ip(), ip(), ua];
  });
  const employees = Array.from({ length: ROWS.employees }, (_, i) => [
    `${100 + Math.floor(r() * 665)}-${String(10 + Math.floor(r() * 89))}-${String(1000 + Math.floor(r() * 8999))}`,
    `B-${String(i).padStart(6, "0")}`, pick(["sales", "support", "engineering"]),
    `0${6 + Math.floor(r() * 2)} ${digits(r, 2)} ${digits(r, 2)} ${digits(r, 2)} ${digits(r, 2)}`,
    `${1950 + Math.floor(r() * 50)}-0${1 + Math.floor(r() * 9)}-1${Math.floor(r() * 9)}`, String(Math.floor(r() * 400)), nir(r),
  ]);
  const tickets = Array.from({ length: ROWS.tickets }, (_, i) => {
    const roll = r();
    const body = roll < 0.15 ? `Hello, please call me back at ${phone()} about order ${i}.`
      : roll < 0.3 ? `My new address for invoices is ${pick(FIRST).toLowerCase()}${i}@mail.example.com, thanks.`
      : pick(["The package arrived damaged, box 3 of 4 was open.", "Refund still not received after 14 days.", "Wrong size delivered, need a 42 instead of 44.", "The app crashes on version 2.14.3 when I pay."]);
    return [`Order ${1000 + i} ${pick(["late", "damaged", "refund"])}`, body, String(1 + Math.floor(r() * 4)), pick(["web", "phone", "chat"])];
  });
  const products = Array.from({ length: ROWS.products }, (_, i) => [
    `SKU-${String(i).padStart(5, "0")}`, `${pick(ADJECTIVES)} ${pick(PRODUCTS)}`,
    `${pick(ADJECTIVES)} ${pick(PRODUCTS).toLowerCase()}, ${1 + Math.floor(r() * 20)} kg, ${10 + Math.floor(r() * 90)} x ${10 + Math.floor(r() * 90)} cm. Fits model ${2020 + Math.floor(r() * 5)}.${Math.floor(r() * 9)}.`,
    `${1 + Math.floor(r() * 3)}.${Math.floor(r() * 20)}.${Math.floor(r() * 10)}`,
    `#${digits(r, 6)}`, `${pick(LAST).toUpperCase()}, ${pick(FIRST)}`,
  ]);
  return { customers, payments, sessions, employees, tickets, products };
}

async function insert(sql: Sql, table: string, columns: string, casts: string[], data: string[][]): Promise<void> {
  const arrays = casts.map((_, i) => data.map((row) => row[i]!));
  const params = casts.map((cast, i) => `$${i + 1}::text[]`).join(", ");
  const select = casts.map((cast, i) => `c${i}::${cast}`).join(", ");
  const names = casts.map((_, i) => `c${i}`).join(", ");
  await sql.unsafe(`INSERT INTO ${table} (${columns}) SELECT ${select} FROM unnest(${params}) AS u(${names})`, arrays);
}

export interface PersonalDatabase {
  name: string;
  query<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  drop(): Promise<void>;
}

export async function createPersonalDatabase(): Promise<PersonalDatabase> {
  const name = `pii_${randomBytes(3).toString("hex")}`;
  const admin = connect(testServerUrl(), { max: 1 });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
  const query = async <T>(fn: (sql: Sql) => Promise<T>): Promise<T> => {
    const sql = connect(testServerUrl(name), { max: 1 });
    try {
      return await fn(sql);
    } finally {
      await sql.end();
    }
  };
  const data = rows(prng(20240613));
  await query(async (sql) => {
    await sql.unsafe(SCHEMA);
    await insert(sql, "customers", "email, full_name, billing_address, contact, tier, preferences, settings",
      ["text", "text", "text", "text", "text", "jsonb", "jsonb"], data.customers);
    await insert(sql, "payments", "amount, currency, instrument, ref, order_number, status",
      ["numeric", "text", "text", "text", "bigint", "text"], data.payments);
    await insert(sql, "sessions", "origin, peer, user_agent, id, started_at",
      ["text", "inet", "text", "uuid", "timestamptz"],
      data.sessions.map((row, i) => [...row, `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, new Date(1.7e12 + i * 1000).toISOString()]));
    await insert(sql, "employees", "code, badge, department, mobile, date_of_birth, desk_number, registration",
      ["text", "text", "text", "text", "date", "int", "text"], data.employees);
    await insert(sql, "tickets", "subject, body, priority, channel", ["text", "text", "int", "text"], data.tickets);
    await insert(sql, "products", "sku, title, description, version, color, owner_label",
      ["text", "text", "text", "text", "text", "text"], data.products);
    await sql.unsafe("ANALYZE");
  });
  return {
    name,
    query,
    async drop() {
      const a = connect(testServerUrl(), { max: 1 });
      await a.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    },
  };
}
