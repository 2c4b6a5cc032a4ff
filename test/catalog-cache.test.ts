// The API validates rule sets against catalogs read lately (loadCatalogs with
// maxAgeMs): a schema change must be seen within that age, and past half of it
// the catalog is read again in the background, so that a steady stream of
// creates never waits for the parent while a schema change still shows up.
// The parent's size, which every create checks limits against, is kept the
// same way (measureCloneRoom with maxAgeMs).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { loadCatalogs } from "../src/control/masking-rules.ts";
import { measureCloneRoom } from "../src/dataplane/server-health.ts";
import type { branchDatabases } from "../src/db/schema.ts";
import { createScratchDatabase, testServerUrl, type ScratchDatabase } from "./helpers/pg.ts";

let db: ScratchDatabase;
let databases: (typeof branchDatabases.$inferSelect)[];
before(async () => {
  db = await createScratchDatabase("catcache");
  await db.sql`CREATE TABLE people (id int PRIMARY KEY, email text)`;
  databases = [{ id: 1, branchId: "br-test", name: "app", physicalName: db.name, ownerName: "postgres", createdAt: new Date(), updatedAt: new Date() }];
});
after(async () => {
  await db.drop();
});

const columns = async (maxAgeMs?: number) => {
  const catalogs = await loadCatalogs(testServerUrl(), databases, maxAgeMs ? { maxAgeMs } : {});
  return catalogs.app!.tables.find((t) => t.name === "people")!.columns.map((c) => c.name);
};

test("a catalog read lately answers; past half its age a background read brings a schema change in before the age runs out", async () => {
  const maxAgeMs = 6_000;
  const first = Date.now();
  assert.deepEqual(await columns(), ["id", "email"]); // a fresh read, remembered
  await db.sql`ALTER TABLE people ADD COLUMN phone text`;
  assert.deepEqual(await columns(maxAgeMs), ["id", "email"], "within half the age, the remembered catalog answers");

  await delay(maxAgeMs / 2 + 200 - (Date.now() - first));
  assert.deepEqual(await columns(maxAgeMs), ["id", "email"], "past half the age, the remembered catalog still answers at once");
  // ... and a read has started: the change shows up well before the age runs out (a synchronous read would only
  // bring it once the age has passed).
  let seen: number | null = null;
  while (Date.now() - first < maxAgeMs - 500) {
    if ((await columns(maxAgeMs)).includes("phone")) {
      seen = Date.now() - first;
      break;
    }
    await delay(50);
  }
  assert.ok(seen !== null, "the schema change did not show up before the catalog's age ran out");
});

test("without maxAgeMs, every call reads the schema as it is now", async () => {
  await db.sql`ALTER TABLE people ADD COLUMN city text`;
  assert.ok((await columns()).includes("city"));
});

test("a parent's size measured lately answers for it; without maxAgeMs it is measured now", async () => {
  const size = async (maxAgeMs?: number) => (await measureCloneRoom(testServerUrl(), [db.name], maxAgeMs ? { maxAgeMs } : {})).parentBytes;
  const before = await size(); // measured, remembered
  await db.sql`CREATE TABLE filler AS SELECT g AS id, pg_catalog.repeat('x', 500) AS pad FROM pg_catalog.generate_series(1, 20000) AS g`;
  assert.equal(await size(60_000), before, "a recent measure answers");
  const now = await size();
  assert.ok(now > before + 5_000_000, `measured now: ${now} bytes, ${before} before 10 MB were added`);
  assert.equal(await size(60_000), now, "and the fresh measure is the one remembered");
});
