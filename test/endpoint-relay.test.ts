// After login the engine relays bytes: pipelined extended-protocol queries,
// COPY both ways, a large result, cancel requests, idle sessions, and ending
// sessions from the engine's side (close(), unlisten()).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import net from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, test } from "node:test";
import { message } from "../src/endpoint/wire.ts";
import {
  type BackendFixture,
  CLIENT_PASSWORD,
  clientSql,
  collectUntilClose,
  conninfo,
  createBackendFixture,
  type EngineFixture,
  firstError,
  psql,
  rawSession,
  startEngine,
} from "./helpers/endpoint.ts";
import { waitFor } from "./helpers/harness.ts";
import { connect } from "./helpers/pg.ts";

let backend: BackendFixture;
let engine: EngineFixture;

before(async () => {
  backend = await createBackendFixture("eprelay");
  engine = await startEngine({ target: () => backend.target() });
  const owner = connect(backend.db.url.replace("postgres@", `${backend.role}:${backend.password}@`), { max: 1 });
  await owner`CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)`;
  await owner.end();
});
after(async () => {
  await engine.close();
  await backend.drop();
});

/** Waits until the server shows `role` running a statement that starts with `prefix`. */
const runningQuery = (prefix: string) =>
  waitFor(
    async () => (await backend.admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = ${backend.role} AND state = 'active' AND query LIKE ${`${prefix}%`}`)[0]!.n as number,
    (n) => n === 1,
  );

describe("relay", () => {
  test("200 pipelined extended-protocol queries on one connection come back in order", async () => {
    const sql = clientSql(engine.port, { max: 1 });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => sql`SELECT ${i}::int AS i, repeat('x', ${i}::int) AS s`.then((rows) => rows[0]!)),
    );
    await sql.end();
    results.forEach((row, i) => assert.deepEqual({ ...row }, { i, s: "x".repeat(i) }));
  });

  test("COPY FROM STDIN and COPY TO STDOUT relay every row", async () => {
    const sql = clientSql(engine.port);
    const lines = Array.from({ length: 5000 }, (_, i) => `${i}\tlabel ${i} ${"y".repeat(i % 50)}\n`);
    const writable = await sql`COPY items (id, label) FROM STDIN`.writable();
    await pipeline(Readable.from(lines), writable);
    const [count] = await sql`SELECT count(*)::int AS n FROM items`;
    assert.equal(count!.n, 5000);
    const readable = await sql`COPY (SELECT id, label FROM items ORDER BY id) TO STDOUT`.readable();
    let copied = "";
    for await (const chunk of readable) copied += chunk.toString();
    await sql.end();
    assert.equal(copied, lines.join(""));
  });

  test("a large result arrives byte-identical to a direct connection's", async () => {
    const query = "SELECT i, md5(i::text) AS h, repeat('z', i % 300) AS pad FROM generate_series(1, 150000) AS i";
    const digest = async (sql: ReturnType<typeof clientSql>) => {
      const hash = createHash("sha256");
      let rows = 0;
      await sql.unsafe(query).cursor(5000, (batch) => {
        for (const r of batch) hash.update(`${r.i}|${r.h}|${r.pad}\n`);
        rows += batch.length;
      });
      await sql.end();
      return { rows, hash: hash.digest("hex") };
    };
    const through = await digest(clientSql(engine.port));
    const direct = await digest(connect(backend.db.url, { max: 1 }));
    assert.equal(through.rows, 150000);
    assert.deepEqual(through, direct);
  });

  test("psql's own large result and \\copy work through the engine", async () => {
    const out = await psql(conninfo(engine.port), ["-Atc", "SELECT count(*), sum(length(repeat('q', i))) FROM generate_series(1, 20000) i"], {
      password: CLIENT_PASSWORD,
    });
    assert.equal(out.stdout.trim(), "20000|200010000", out.stderr);
  });
});

describe("cancel", () => {
  test("postgres.js cancels pg_sleep(30) through the engine", async () => {
    const sql = clientSql(engine.port);
    await sql`SELECT 1`; // connected, so the cancel key is known
    const query = sql`SELECT pg_sleep(30) AS slept_from_postgres_js`.execute();
    await runningQuery("SELECT pg_sleep(30) AS slept_from_postgres_js");
    const before = engine.engine.stats().cancelsForwarded;
    query.cancel();
    await assert.rejects(query, { code: "57014", message: "canceling statement due to user request" });
    assert.equal(engine.engine.stats().cancelsForwarded, before + 1);
    // The session survives a cancel.
    const [row] = await sql`SELECT 2 AS two`;
    assert.equal(row!.two, 2);
    await sql.end();
  });

  test("psql's Ctrl-C (SIGINT) cancels through the engine", async () => {
    let kill: (signal: NodeJS.Signals) => void = () => {};
    const done = psql(conninfo(engine.port), ["-c", "SELECT pg_sleep(30) AS slept_from_psql"], {
      password: CLIENT_PASSWORD,
      onSpawn: (k) => (kill = k),
    });
    await runningQuery("SELECT pg_sleep(30) AS slept_from_psql");
    kill("SIGINT");
    const out = await done;
    assert.match(out.stderr, /canceling statement due to user request/);
  });

  test("a cancel request with an unknown key is dropped silently", async () => {
    const socket = net.connect(engine.port, "127.0.0.1");
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(80877102, 4);
    packet.writeInt32BE(12345, 8);
    packet.writeInt32BE(67890, 12);
    socket.write(packet);
    const before = engine.engine.stats().cancelsForwarded;
    assert.equal((await collectUntilClose(socket)).length, 0);
    assert.equal(engine.engine.stats().cancelsForwarded, before);
  });
});

describe("ending sessions from the engine", () => {
  test("an idle session is closed after idleTimeoutMs with 57P05; a long query is not idle", async () => {
    const e = await startEngine({ target: () => backend.target(), limits: { idleTimeoutMs: 300 } });
    try {
      // Busy for longer than the idle timeout: the session must survive.
      const sql = clientSql(e.port);
      const [row] = await sql`SELECT pg_sleep(0.9), 'survived' AS s`;
      assert.equal(row!.s, "survived");
      await sql.end();
      // Idle after login: closed by the engine with a proper error.
      const session = await rawSession(e.port);
      const received = await collectUntilClose(session.socket);
      assert.deepEqual(firstError(received), { code: "57P05", message: "terminating connection due to idle-session timeout" });
      await waitFor(() => Promise.resolve(e.engine.stats().clients), (n) => n === 0);
    } finally {
      await e.close();
    }
  });

  test("close() ends relaying and handshaking sessions and their backends", async () => {
    const e = await startEngine({ target: () => backend.target({ params: { application_name: "close-test" } }) });
    const idle = await rawSession(e.port);
    const idleBytes = collectUntilClose(idle.socket);
    const busy = clientSql(e.port);
    await busy`SELECT 1`;
    const sleeping = busy`SELECT pg_sleep(600) AS slept_until_close`.execute().then(
      () => null,
      (error: { code?: string }) => error,
    );
    await runningQuery("SELECT pg_sleep(600) AS slept_until_close");
    const handshaking = net.connect(e.port, "127.0.0.1");
    const handshakingBytes = collectUntilClose(handshaking);
    await waitFor(() => Promise.resolve(e.engine.stats().clients), (n) => n === 3);

    await e.close();
    assert.deepEqual(firstError(await idleBytes), { code: "57P01", message: "terminating connection due to administrator command" });
    await handshakingBytes;
    assert.equal((await sleeping)?.code, "CONNECTION_CLOSED", "a query in flight is cut, not answered");
    await busy.end({ timeout: 0 }); // postgres.js would otherwise wait on the connection it lost
    assert.equal(e.engine.stats().clients, 0);
    await waitFor(
      async () => (await backend.admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'close-test'`)[0]!.n as number,
      (n) => n === 0,
    );
  });

  test("unlisten() stops one port and ends its sessions; other ports keep serving", async () => {
    const e = await startEngine({ target: () => backend.target() });
    try {
      const second = await e.engine.listen(0, "127.0.0.1");
      const onFirst = await rawSession(e.port);
      const onSecond = await rawSession(second);
      const firstClosed = collectUntilClose(onFirst.socket);
      await e.engine.unlisten(e.port);
      assert.equal(firstError(await firstClosed)?.code, "57P01");
      assert.deepEqual(e.engine.stats().ports, [second]);
      onSecond.socket.write(message("Q", "SELECT 1\0"));
      const reply = await new Promise<Buffer>((resolve) => onSecond.socket.once("data", resolve));
      assert.equal(String.fromCharCode(reply[0]!), "T", "the other port's session still answers");
      onSecond.socket.destroy();
      const sql = clientSql(e.port);
      await assert.rejects(sql`SELECT 1`, { code: "ECONNREFUSED" });
      await sql.end();
    } finally {
      await e.close();
    }
  });

  test("a client that vanishes mid-query gets its query cancelled on the backend (which would not notice by itself)", async () => {
    const e = await startEngine({ target: () => backend.target({ params: { application_name: "vanish-test" } }) });
    try {
      const session = await rawSession(e.port);
      session.socket.write(message("Q", "SELECT pg_sleep(600) AS slept_until_vanished\0"));
      await runningQuery("SELECT pg_sleep(600) AS slept_until_vanished");
      session.socket.resetAndDestroy();
      await waitFor(
        async () => (await backend.admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'vanish-test'`)[0]!.n as number,
        (n) => n === 0,
      );
      assert.equal(e.engine.stats().cancelsOnCut, 1);
      // A client that leaves cleanly (Terminate), busy or idle before, costs the server no cancel.
      const clean = clientSql(e.port);
      await clean`SELECT 1`;
      await clean.end();
      const idle = await rawSession(e.port);
      idle.socket.end();
      await waitFor(() => Promise.resolve(e.engine.stats().clients), (n) => n === 0);
      assert.equal(e.engine.stats().cancelsOnCut, 1);
    } finally {
      await e.close();
    }
  });

  test("an abrupt client reset mid-result frees the backend session and the engine keeps serving", async () => {
    const e = await startEngine({ target: () => backend.target({ params: { application_name: "reset-test" } }) });
    try {
      const session = await rawSession(e.port);
      session.socket.write(message("Q", "SELECT repeat('r', 1000) FROM generate_series(1, 2000000)\0"));
      await new Promise((resolve) => session.socket.once("data", resolve));
      session.socket.resetAndDestroy();
      await waitFor(
        async () => (await backend.admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'reset-test'`)[0]!.n as number,
        (n) => n === 0,
      );
      assert.equal(e.engine.stats().clients, 0);
      const sql = clientSql(e.port);
      assert.equal((await sql`SELECT 3 AS n`)[0]!.n, 3);
      await sql.end();
    } finally {
      await e.close();
    }
  });
});
