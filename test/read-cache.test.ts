// The API's read cache is only as right as the change notifications that
// empty it. Here the subscription dies the way it does in a PostgreSQL
// restart (its connection is cut and the driver's attempt to subscribe again
// is refused): the cache must notice, stop keeping entries, and come back
// once notifications arrive again, instead of serving reads that no
// notification will ever clear.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { CHANGES_CHANNEL, listenForChanges, ReadCache, type ChangeListener } from "../src/control/read-cache.ts";
import { openChangeListener } from "../src/db/client.ts";
import { connect, createScratchDatabase, testServerUrl, type ScratchDatabase } from "./helpers/pg.ts";

let db: ScratchDatabase;
let changes: ChangeListener | undefined;
const admin = connect(testServerUrl(), { max: 1 });

before(async () => {
  db = await createScratchDatabase("read_cache");
});

after(async () => {
  await changes?.stop();
  await admin.unsafe(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`);
  await admin.end();
  await db.drop();
});

async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await delay(50);
  }
}

/** What the cache answers for `key` when the database would now say `value`. */
const read = (cache: ReadCache, key: string, value: number) => cache.get(key, async () => value);

test("a subscription lost without a word turns the cache off until notifications arrive again", async () => {
  const cache = new ReadCache(60_000); // a long TTL: only notifications can empty it
  changes = await listenForChanges(cache, () => openChangeListener(db.url));
  await until("the first heartbeat is heard", () => cache.listening);

  // Kept, and emptied by a change notification from another connection.
  assert.equal(await read(cache, "branch", 1), 1);
  assert.equal(await read(cache, "branch", 2), 1, "kept while notifications arrive");
  await db.sql`SELECT pg_catalog.pg_notify(${CHANGES_CHANNEL}, 'branches')`;
  await until("the change empties the cache", async () => (await read(cache, "branch", 3)) === 3);

  // The subscription's connection is cut and every new connection refused, as while a server shuts down.
  await admin.unsafe(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS false`);
  const [cut] = await admin`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = ${db.name} AND application_name = 'anonbranch-changes'`;
  assert.ok(cut!.n >= 1, "the listener's connection was there to cut");
  await until("the silence turns the cache off", () => !cache.listening);
  assert.equal(await read(cache, "branch", 4), 4, "read from the database while silent");
  assert.equal(await read(cache, "branch", 5), 5, "nothing kept while silent");

  // The server takes connections again: heard again, cached again, and emptied by the next change.
  await admin.unsafe(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`);
  await until("heartbeats are heard again", () => cache.listening);
  assert.equal(await read(cache, "branch", 6), 6);
  assert.equal(await read(cache, "branch", 7), 6, "kept again");
  await db.sql`SELECT pg_catalog.pg_notify(${CHANGES_CHANNEL}, 'branches')`;
  await until("the change after the outage empties the cache", async () => (await read(cache, "branch", 8)) === 8);

  // One subscription left: the connections of the clients given up on close (within seconds).
  const listenerConnections = async () => {
    const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${db.name} AND application_name = 'anonbranch-changes'`;
    return row!.n;
  };
  await until("only the live subscription's connections are left", async () => (await listenerConnections()) <= 2, 10_000);
});

test("other processes' heartbeats neither empty the cache nor stand in for this one's", async () => {
  await changes?.stop();
  const cache = new ReadCache(60_000);
  changes = await listenForChanges(cache, () => openChangeListener(db.url));
  await until("the first heartbeat is heard", () => cache.listening);
  assert.equal(await read(cache, "key", 1), 1);
  await db.sql`SELECT pg_catalog.pg_notify(${CHANGES_CHANNEL}, 'heartbeat:another-process')`;
  await delay(300);
  assert.equal(await read(cache, "key", 2), 1, "another process's heartbeat is not a change");
});
