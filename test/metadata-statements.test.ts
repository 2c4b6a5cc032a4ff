// The metadata pool sends drizzle's statements as prepared statements: a
// statement is parsed and planned on a connection once and bound afterwards.
// Unprepared, postgres.js asks the server to describe every statement with
// parameters before binding it (two round trips each, and nothing pipelined),
// which made a branch create cost about thirty round trips instead of ten.
// Here one connection (a pool of one) runs statements and the server's own
// pg_prepared_statements shows what it keeps and how often each was reused.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eq, inArray, sql } from "drizzle-orm";
import { MAX_PREPARED_PARAMETERS, openMetadataDb, type MetadataDb } from "../src/db/client.ts";
import { migrateMetadata } from "../src/db/migrate.ts";
import { auditEvents, projects } from "../src/db/schema.ts";
import { createScratchDatabase, type ScratchDatabase } from "./helpers/pg.ts";

let scratch: ScratchDatabase;
let metadata: MetadataDb;

before(async () => {
  scratch = await createScratchDatabase("meta_statements");
  await migrateMetadata(scratch.url);
  metadata = openMetadataDb(scratch.url, 1);
});

after(async () => {
  await metadata.sql.end();
  await scratch.drop();
});

/** The connection's prepared statements whose text contains `fragment`, with how often each ran. */
async function prepared(fragment: string): Promise<{ statement: string; runs: number }[]> {
  const rows = await metadata.sql<{ statement: string; runs: number }[]>`
    SELECT statement, (generic_plans + custom_plans)::int AS runs
    FROM pg_catalog.pg_prepared_statements
    WHERE statement LIKE ${`%${fragment}%`} AND statement NOT LIKE '%pg_prepared_statements%'`;
  return [...rows];
}

test("a drizzle statement run three times is prepared once and run three times", async () => {
  for (const id of ["p-1", "p-2", "p-3"]) {
    assert.deepEqual(await metadata.db.select({ id: projects.id }).from(projects).where(eq(projects.id, id)), []);
  }
  const rows = await prepared(`from "projects" where "projects"."id" = $1`);
  assert.equal(rows.length, 1, `one prepared statement for the select, found ${JSON.stringify(rows)}`);
  assert.equal(rows[0]!.runs, 3);
});

test("statements inside a transaction are prepared too, on the transaction's connection", async () => {
  for (let i = 0; i < 2; i++) {
    await metadata.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_catalog.pg_advisory_xact_lock(${4242}::bigint)`);
      await tx.select({ id: projects.id }).from(projects).where(eq(projects.name, "nobody"));
    });
  }
  const lock = await prepared("pg_advisory_xact_lock");
  assert.equal(lock.length, 1);
  assert.equal(lock[0]!.runs, 2);
  const select = await prepared(`where "projects"."name" = $1`);
  assert.equal(select.length, 1);
  assert.equal(select[0]!.runs, 2);
});

test(`a statement with more than ${MAX_PREPARED_PARAMETERS} parameters (its text varies with its data) is not kept`, async () => {
  const many = Array.from({ length: MAX_PREPARED_PARAMETERS + 1 }, (_, i) => `p-${i}`);
  const few = many.slice(0, 3);
  await metadata.db.select({ id: auditEvents.id }).from(auditEvents).where(inArray(auditEvents.projectId, many));
  await metadata.db.select({ id: auditEvents.id }).from(auditEvents).where(inArray(auditEvents.projectId, few));
  const rows = await prepared(`from "audit_events" where "audit_events"."project_id" in`);
  assert.equal(rows.length, 1, `only the three-parameter statement is kept, found ${rows.length}`);
  assert.match(rows[0]!.statement, /in \(\$1, \$2, \$3\)$/);
});
