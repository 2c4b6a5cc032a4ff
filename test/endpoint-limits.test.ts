// The engine bounds what it holds: maxClients, a deadline for startup and
// authentication, a size limit on startup messages; and no client input
// (garbage, resets, stalls, TLS tricks) can crash it or leave sockets behind.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ensureEndpointCertificate } from "../src/endpoint/index.ts";
import { message, saslInitialResponse, sslRequest, startupMessage } from "../src/endpoint/wire.ts";
import {
  type BackendFixture,
  clientSql,
  collectUntilClose,
  createBackendFixture,
  type EngineFixture,
  firstError,
  startEngine,
} from "./helpers/endpoint.ts";
import { waitFor } from "./helpers/harness.ts";

let backend: BackendFixture;

before(async () => {
  backend = await createBackendFixture("eplimit");
});
after(async () => {
  await backend.drop();
});

const clientsOf = (e: EngineFixture, n: number) => waitFor(() => Promise.resolve(e.engine.stats().clients), (c) => c === n);

/** Connects a raw socket, sends `bytes`, returns what came back before the engine closed it. */
async function sendAndCollect(port: number, ...writes: Buffer[]): Promise<Buffer> {
  const socket = net.connect(port, "127.0.0.1");
  const received = collectUntilClose(socket);
  for (const w of writes) socket.write(w);
  return received;
}

describe("maxClients", () => {
  test("past the limit a client gets 53300; cancel requests still pass; a freed slot admits the next", async () => {
    const e = await startEngine({ target: () => backend.target(), limits: { maxClients: 2 } });
    try {
      const first = clientSql(e.port);
      const second = clientSql(e.port);
      await first`SELECT 1`;
      await second`SELECT 1`;
      const sleeping = second`SELECT pg_sleep(30) AS slept_at_limit`.execute();
      await waitFor(
        async () => (await backend.admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30) AS slept_at_limit%' AND state = 'active'`)[0]!.n as number,
        (n) => n === 1,
      );

      const third = clientSql(e.port);
      await assert.rejects(third`SELECT 1`, { code: "53300", message: "sorry, too many clients already" });
      await third.end();

      sleeping.cancel(); // a new connection while full: must still reach the backend
      await assert.rejects(sleeping, { code: "57014" });

      await first.end();
      await clientsOf(e, 1);
      const fourth = clientSql(e.port);
      assert.equal((await fourth`SELECT 4 AS n`)[0]!.n, 4);
      await fourth.end();
      await second.end();
    } finally {
      await e.close();
    }
  });
});

describe("authTimeoutMs", () => {
  let e: EngineFixture;
  before(async () => {
    e = await startEngine({ target: () => backend.target(), limits: { authTimeoutMs: 300 } });
  });
  after(async () => {
    await e.close();
  });

  test("a client that connects and sends nothing is closed with an error", async () => {
    const error = firstError(await sendAndCollect(e.port));
    assert.deepEqual(error, { code: "08006", message: "timeout expired during connection startup" });
  });

  test("a client that stalls in the middle of SCRAM is closed", async () => {
    const received = await sendAndCollect(e.port, startupMessage({ user: "alice", database: "branchdb" }));
    assert.equal(String.fromCharCode(received[0]!), "R", "the SASL request came first");
    assert.equal(firstError(received)?.message, "timeout expired during connection startup");
  });

  test("a client that asks for TLS and never starts the handshake is closed", async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), "endpoint-limits-"));
    const tls = await ensureEndpointCertificate(stateDir, ["127.0.0.1"]);
    const tlsEngine = await startEngine({ target: () => backend.target(), limits: { authTimeoutMs: 300 }, tls });
    try {
      const received = await sendAndCollect(tlsEngine.port, sslRequest());
      assert.equal(received.subarray(0, 1).toString(), "S");
      await clientsOf(tlsEngine, 0);
    } finally {
      await tlsEngine.close();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

describe("maxStartupBytes", () => {
  let e: EngineFixture;
  before(async () => {
    e = await startEngine({ target: () => backend.target(), limits: { maxStartupBytes: 2048 } });
  });
  after(async () => {
    await e.close();
  });

  test("a startup packet declaring more than the limit is refused at once (08P01)", async () => {
    const header = Buffer.alloc(8);
    header.writeInt32BE(100_000, 0);
    header.writeInt32BE(196608, 4);
    assert.equal(firstError(await sendAndCollect(e.port, header))?.code, "08P01");
  });

  test("a real startup message over the limit is refused", async () => {
    const big = startupMessage({ user: "alice", database: "branchdb", application_name: "a".repeat(4000) });
    assert.deepEqual(firstError(await sendAndCollect(e.port, big)), { code: "08P01", message: "invalid length of startup packet (too long)" });
  });

  test("an oversized SASL message is refused", async () => {
    const received = await sendAndCollect(
      e.port,
      startupMessage({ user: "alice", database: "branchdb" }),
      saslInitialResponse("SCRAM-SHA-256", `n,,n=,r=${"x".repeat(5000)}`),
    );
    // Refused on its declared length, or on the bytes held if it arrived before we asked for it.
    const error = firstError(received);
    assert.equal(error?.code, "08P01");
    assert.match(error!.message!, /^(message too long|too much data sent) during connection startup$/);
  });
});

describe("hostile and broken clients", () => {
  let e: EngineFixture;
  before(async () => {
    e = await startEngine({ target: () => backend.target(), limits: { authTimeoutMs: 500 } });
  });
  after(async () => {
    await e.close();
  });

  test("garbage bytes, an HTTP request and a malformed SCRAM exchange get errors, not a crash", async () => {
    const garbage = await sendAndCollect(e.port, Buffer.from([0, 0, 0, 3, 1, 2, 3, 4]));
    assert.equal(firstError(garbage)?.code, "08P01");
    const http = await sendAndCollect(e.port, Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert.equal(firstError(http)?.code, "08P01");
    const badScram = await sendAndCollect(
      e.port,
      startupMessage({ user: "alice", database: "branchdb" }),
      saslInitialResponse("SCRAM-SHA-256", "p=tls-server-end-point,,n=,r=abc"),
    );
    assert.equal(firstError(badScram)?.code, "08P01");
    const wrongMechanism = await sendAndCollect(e.port, startupMessage({ user: "alice" }), saslInitialResponse("PLAIN", "x"));
    assert.deepEqual(firstError(wrongMechanism), { code: "28000", message: "client selected an invalid SASL authentication mechanism" });
    const noUser = await sendAndCollect(e.port, startupMessage({ database: "x" }));
    assert.equal(firstError(noUser)?.code, "28000");
    const notSasl = await sendAndCollect(e.port, startupMessage({ user: "alice" }), message("Q", "SELECT 1\0"));
    assert.equal(firstError(notSasl)?.code, "08P01");
    await clientsOf(e, 0);
  });

  test("bytes sent after an SSLRequest before our answer are refused (no injection into the TLS session)", async () => {
    const received = await sendAndCollect(e.port, Buffer.concat([sslRequest(), startupMessage({ user: "alice" })]));
    assert.deepEqual(firstError(received), { code: "08P01", message: "received unencrypted data after SSL request" });
  });

  test("a burst of random input and resets at every stage leaves the engine serving and holding nothing", async () => {
    const attempts = Array.from({ length: 60 }, async (_, i) => {
      const socket = net.connect(e.port, "127.0.0.1");
      socket.on("error", () => {});
      await new Promise((resolve) => socket.once("connect", resolve));
      if (i % 3 === 0) socket.write(randomBytes(1 + (i % 40)));
      if (i % 3 === 1) socket.write(startupMessage({ user: "alice", database: "branchdb" }));
      if (i % 3 === 2) socket.write(sslRequest());
      await new Promise((resolve) => socket.once("data", resolve).once("close", resolve));
      socket.resetAndDestroy();
    });
    await Promise.all(attempts);
    await clientsOf(e, 0);
    const sql = clientSql(e.port);
    assert.equal((await sql`SELECT 5 AS n`)[0]!.n, 5);
    await sql.end();
  });
});
