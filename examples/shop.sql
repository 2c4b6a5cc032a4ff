-- A small parent database to try anonbranch with: createdb shop && psql -d shop -f examples/shop.sql
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
  FROM generate_series(1, 3000) g;
INSERT INTO orders (user_id, total, note)
  SELECT 1 + (g % 3000), (g % 500) + 0.99, 'order ' || g
  FROM generate_series(1, 6000) g;
