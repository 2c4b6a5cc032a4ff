// A connection that dies under postgres.js, the way a PostgreSQL restart kills
// it, in one scenario per process: test/driver-patch.test.ts runs each against
// a pristine and a patched copy of the driver (patches/postgres+*.patch).
// Usage: node --import tsx driver-scenarios.ts <path to postgres' index.js> <scenario>
// Prints one JSON line with what the caller observed; an uncaught exception
// ends the process as it would end the service.
import { pathToFileURL } from "node:url";
import type realPostgres from "postgres";

const [modulePath, scenario] = process.argv.slice(2);
const url = process.env.ANONBRANCH_TEST_PG_URL;
if (!modulePath || !scenario || !url) throw new Error("usage: driver-scenarios.ts <postgres index.js> <scenario> (ANONBRANCH_TEST_PG_URL set)");
const imported = await import(pathToFileURL(modulePath).href);
// ESM build: default export; CommonJS build: module.exports as default.
const postgres = (imported.default?.default ?? imported.default) as typeof realPostgres;

type Sql = ReturnType<typeof postgres>;

/** A pool that reports when one of its connections closes. */
function pool(max: number): { sql: Sql; closed: () => Promise<void> } {
  let waiting: (() => void)[] = [];
  const sql = postgres(url!, {
    max,
    onnotice: () => {},
    onclose: () => {
      for (const w of waiting) w();
      waiting = [];
    },
  });
  return { sql, closed: () => new Promise((resolve) => waiting.push(resolve)) };
}

const admin = postgres(url, { max: 1, onnotice: () => {} });
const terminate = async (pid: number) => {
  await admin`SELECT pg_terminate_backend(${pid})`;
};
/** The one value of a one-row, one-column result. */
const value = async (rows: Promise<readonly Record<string, unknown>[]>) => Object.values((await rows)[0] ?? {})[0];
const codeOf = (error: unknown) => (error as { code?: string }).code ?? String(error);

async function settled<T>(p: Promise<T>): Promise<{ value?: T; error?: string }> {
  try {
    return { value: await p };
  } catch (error) {
    return { error: codeOf(error) };
  }
}

/** A reserved connection (our branch lock) whose backend dies, then is used and released. */
async function reserved() {
  const { sql, closed } = pool(2);
  const conn = await sql.reserve();
  const pid = Number(await value(conn`SELECT pg_backend_pid()`));
  const gone = closed();
  await terminate(pid);
  await gone;
  const afterClose = await settled(conn`SELECT 1`);
  conn.release();
  const ok = await value(sql`SELECT 'pool works'`);
  await sql.end({ timeout: 1 });
  return { afterClose: afterClose.error ?? "answered", pool: ok };
}

/** A transaction whose connection dies: its next statement and its rollback. */
async function transaction() {
  const { sql, closed } = pool(2);
  const outcome = await settled(
    sql.begin(async (tx) => {
      const pid = Number(await value(tx`SELECT pg_backend_pid()`));
      const gone = closed();
      await terminate(pid);
      await gone;
      await tx`SELECT 1`;
    }),
  );
  const ok = await value(sql`SELECT 'pool works'`);
  await sql.end({ timeout: 1 });
  return { transaction: outcome.error ?? "committed", pool: ok };
}

/**
 * A transaction whose connection died and was reopened by the pool for another
 * query: its next INSERT must not run, outside the transaction, on that new session.
 */
async function transactionReconnected() {
  const { sql, closed } = pool(1);
  const table = `driver_patch_${process.pid}`;
  await sql.unsafe(`CREATE TABLE ${table} (n int)`);
  // begin() gives up as soon as the connection closes; its callback runs on.
  let callbackDone!: () => void;
  const callbackEnded = new Promise<void>((resolve) => (callbackDone = resolve));
  const outcome = await settled(
    sql.begin(async (tx) => {
      try {
        const pid = Number(await value(tx`SELECT pg_backend_pid()`));
        const gone = closed();
        await terminate(pid);
        await gone;
        await sql`SELECT 1`; // the pool reopens the only connection
        await settled(tx.unsafe(`INSERT INTO ${table} VALUES (2)`));
      } finally {
        callbackDone();
      }
    }),
  );
  await callbackEnded;
  const n = await value(sql.unsafe(`SELECT count(*)::int FROM ${table}`));
  await sql.unsafe(`DROP TABLE ${table}`);
  await sql.end({ timeout: 1 });
  return { transaction: outcome.error ?? "committed", rowsOutsideTransaction: n };
}

/**
 * A reserve() queued behind the pool's only connection when that connection
 * closes and the pool reopens it for the reservation (here the connection
 * reaches its max_lifetime while busy; a server restart does the same).
 */
async function queuedReserve() {
  const sql = postgres(url!, { max: 1, max_lifetime: 1, onnotice: () => {} });
  // execute(): dispatched now; then reserve() has to queue behind it.
  const busy = sql`SELECT pg_sleep(2)`.execute();
  await new Promise((resolve) => setImmediate(resolve));
  const reservation = sql.reserve();
  await busy;
  // Bounded so that a stranded reservation is reported instead of hanging the test.
  let timer: NodeJS.Timeout | undefined;
  const got = await Promise.race([
    reservation.then(() => "reserved"),
    new Promise((r) => (timer = setTimeout(r, 5000, "still waiting after 5 s"))),
  ]);
  clearTimeout(timer);
  if (got === "reserved") (await reservation).release();
  await sql.end({ timeout: 1 });
  return { reserve: got };
}

/** Reservations, transactions and plain queries sharing a small pool: every one completes on its own session. */
async function leasesUnderLoad() {
  // One connection more than there are reservations, or the workers' pool queries could never run.
  const { sql } = pool(4);
  let completed = 0;
  const worker = async (i: number) => {
    for (let k = 0; k < 25; k++) {
      const conn = await sql.reserve();
      try {
        await conn`SELECT pg_advisory_lock(42, ${i})`;
        await sql`SELECT 1`;
        await sql.begin(async (tx) => tx`SELECT 2`);
        const [held] = await conn`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`;
        if (held?.n !== 1) throw new Error("the reserved connection is not the session that took the lock");
        await conn`SELECT pg_advisory_unlock(42, ${i})`;
      } finally {
        conn.release();
      }
      completed += 1;
    }
  };
  await Promise.all([0, 1, 2].map(worker));
  await sql.end({ timeout: 1 });
  return { completed };
}

/**
 * A new connection whose array-type lookup fails (here: a role that may not
 * read pg_type; a connection reset at that moment does the same).
 */
async function typesLookupFails() {
  const db = `driver_types_${process.pid}`;
  const role = `driver_types_${process.pid}`;
  await admin.unsafe(`CREATE DATABASE ${db}`);
  await admin.unsafe(`CREATE ROLE ${role} LOGIN PASSWORD 'types-pass'`);
  const owner = postgres(url!.replace(/\/[^/]*$/, `/${db}`), { max: 1, onnotice: () => {} });
  await owner.unsafe(`REVOKE SELECT ON pg_catalog.pg_type FROM PUBLIC`);
  await owner.end();
  const target = new URL(url!);
  target.pathname = `/${db}`;
  target.username = role;
  target.password = "types-pass"; // the test cluster checks passwords of every role but the admin
  const sql = postgres(target.toString(), { max: 1, onnotice: () => {} });
  const outcome = await settled(sql`SELECT 1`);
  await sql.end({ timeout: 1 });
  await admin.unsafe(`DROP DATABASE ${db} WITH (FORCE)`);
  await admin.unsafe(`DROP ROLE ${role}`);
  return { query: outcome.error ?? "answered" };
}

const scenarios: Record<string, () => Promise<object>> = {
  typesLookupFails, reserved, transaction, transactionReconnected, queuedReserve, leasesUnderLoad };
const run = scenarios[scenario];
if (!run) throw new Error(`unknown scenario ${scenario}`);
const result = await run();
await admin.end();
process.stdout.write(`${JSON.stringify(result)}\n`);
