// A parent database shaped like the product's example: users and orders with a
// UNIQUE email and a foreign key, a few thousand rows.
import { randomBytes } from "node:crypto";
import { connect, testServerUrl, type Sql } from "./pg.ts";

export interface ShopDatabase {
  name: string;
  url: string;
  /** Opens a short-lived client (closed by the callback's end): parents must be idle to be cloned. */
  query<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  drop(): Promise<void>;
}

export async function createShop(users = 3000, prefix = "shop"): Promise<ShopDatabase> {
  const name = `${prefix}_${randomBytes(3).toString("hex")}`;
  const admin = connect(testServerUrl(), { max: 1 });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = testServerUrl(name);
  const query = async <T>(fn: (sql: Sql) => Promise<T>): Promise<T> => {
    const sql = connect(url, { max: 1 });
    try {
      return await fn(sql);
    } finally {
      await sql.end();
    }
  };
  await query((sql) =>
    sql.unsafe(`
      CREATE TABLE users (
        id serial PRIMARY KEY,
        email text NOT NULL UNIQUE,
        phone text,
        name text,
        address text
      );
      CREATE TABLE orders (
        id serial PRIMARY KEY,
        user_id int NOT NULL REFERENCES users (id),
        total numeric(10, 2) NOT NULL,
        note text
      );
      INSERT INTO users (email, phone, name, address)
        SELECT 'customer' || g || '@shop.example', '+33 6 ' || lpad(g::text, 8, '0'),
               'Customer Number ' || g, g || ' Rue de la Paix, Paris'
        FROM generate_series(1, ${users}) g;
      INSERT INTO orders (user_id, total, note)
        SELECT 1 + (g % ${users}), (g % 500) + 0.99, 'order ' || g
        FROM generate_series(1, ${users * 2}) g;
      ANALYZE;
    `),
  );
  return {
    name,
    url,
    query,
    async drop() {
      const a = connect(testServerUrl(), { max: 1 });
      await a.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    },
  };
}
