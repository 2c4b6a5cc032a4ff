// Which data-plane failures the worker retries: real errors from a real server.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connectDataPlane, isTransient } from "../src/dataplane/connection.ts";
import { connect, createScratchDatabase, testServerUrl, type ScratchDatabase } from "./helpers/pg.ts";

let db: ScratchDatabase;

before(async () => {
  db = await createScratchDatabase("transient");
  await db.sql`CREATE TABLE t (id int PRIMARY KEY)`;
  await db.sql`INSERT INTO t VALUES (1)`;
});

after(async () => {
  await db?.drop();
});

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  assert.fail("expected a failure");
}

test("an unreachable server is transient", async () => {
  const url = new URL(testServerUrl());
  url.port = "1"; // nothing listens there
  const sql = connectDataPlane(url.toString());
  const error = await failure(() => sql`SELECT 1`);
  await sql.end();
  assert.equal(isTransient(error), true, String(error));
});

test("a session the server terminates mid-query is transient", async () => {
  const victim = connect(db.url, { max: 1, connection: { application_name: "transient_victim" } });
  const running = failure(() => victim`SELECT pg_sleep(30)`);
  const admin = connect(testServerUrl(), { max: 1 });
  // Terminate the session while its query runs (the way a server shutdown would).
  const { waitFor } = await import("./helpers/harness.ts");
  await waitFor(
    async () => (await admin`SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = 'transient_victim' AND state = 'active'`).length,
    (n) => n > 0,
    10_000,
  );
  await admin.end();
  const error = await running;
  await victim.end({ timeout: 1 });
  assert.equal(isTransient(error), true, String(error));
});

test("a broken constraint or a missing object is not, and neither is a wrapped one", async () => {
  const unique = await failure(() => db.sql`INSERT INTO t VALUES (1)`);
  assert.equal(isTransient(unique), false);
  const missing = await failure(() => db.sql`SELECT * FROM no_such_table`);
  assert.equal(isTransient(missing), false);
  assert.equal(isTransient(new Error("masking failed", { cause: unique })), false);
});
