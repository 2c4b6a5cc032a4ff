// Logging in through the endpoint engine: SCRAM for clients (psql and
// postgres.js), TLS and SNI, Neon's options=endpoint=…, refusals before and
// after authentication, and what reaches (and never reaches) the backend.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ensureEndpointCertificate, type Route } from "../src/endpoint/index.ts";
import { startupMessage } from "../src/endpoint/wire.ts";
import {
  type BackendFixture,
  CLIENT_PASSWORD,
  clientSql,
  clientVerifier,
  collectUntilClose,
  conninfo,
  createBackendFixture,
  type EngineFixture,
  firstError,
  psql,
  startEngine,
} from "./helpers/endpoint.ts";

let backend: BackendFixture;
let engine: EngineFixture;
let tlsEngine: EngineFixture;
let stateDir: string;

before(async () => {
  backend = await createBackendFixture("epconn");
  engine = await startEngine({ target: () => backend.target({ params: { application_name: "from-route" } }) });
  stateDir = await mkdtemp(path.join(os.tmpdir(), "endpoint-tls-"));
  const cert = await ensureEndpointCertificate(stateDir, ["localhost", "127.0.0.1", "*.ep.test"]);
  tlsEngine = await startEngine({ target: () => backend.target(), tls: cert });
});

after(async () => {
  await engine.close();
  await tlsEngine.close();
  await backend.drop();
  await rm(stateDir, { recursive: true, force: true });
});

describe("client authentication (SCRAM-SHA-256)", () => {
  test("postgres.js logs in with the route's password and lands on the route's backend role and database", async () => {
    const sql = clientSql(engine.port);
    const [row] = await sql`SELECT current_user AS who, current_database() AS db`;
    await sql.end();
    assert.deepEqual({ ...row }, { who: backend.role, db: backend.db.name });
    const info = engine.lookups.at(-1)!;
    assert.equal(info.user, "alice");
    assert.equal(info.database, "branchdb");
    assert.equal(info.tls, false);
    assert.equal(info.serverName, null);
  });

  test("psql logs in and runs a query", async () => {
    const out = await psql(conninfo(engine.port), ["-Atc", "SELECT current_user"], { password: CLIENT_PASSWORD });
    assert.equal(out.stderr, "");
    assert.equal(out.stdout.trim(), backend.role);
  });

  test("a wrong password fails exactly like PostgreSQL: 28P01, password authentication failed", async () => {
    const sql = clientSql(engine.port, { password: "not-it" });
    await assert.rejects(sql`SELECT 1`, { code: "28P01", message: 'password authentication failed for user "alice"' });
    await sql.end();
    const out = await psql(conninfo(engine.port), ["-Atc", "SELECT 1"], { password: "not-it" });
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /FATAL:\s+password authentication failed for user "alice"/);
  });

  test("the engine offers SCRAM only: a client holding just a cleartext password cannot get it accepted as such", async () => {
    // psql without a password gets the SASL request and gives up: nothing is sent in clear.
    const out = await psql(conninfo(engine.port), ["-w", "-Atc", "SELECT 1"]);
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /no password supplied/);
  });
});

describe("refusals", () => {
  test("a refusal from lookup() arrives before authentication as the given FATAL error", async () => {
    const e = await startEngine({
      route: () => ({ kind: "refuse", sqlstate: "3D000", message: 'database "nope" does not exist', detail: "try another" }),
    });
    try {
      const sql = clientSql(e.port);
      await assert.rejects(sql`SELECT 1`, { code: "3D000", message: 'database "nope" does not exist', detail: "try another" });
      await sql.end();
      // psql prints it without having been asked for a password.
      const out = await psql(conninfo(e.port), ["-w", "-Atc", "SELECT 1"]);
      assert.match(out.stderr, /FATAL:\s+database "nope" does not exist\nDETAIL:\s+try another/);
    } finally {
      await e.close();
    }
  });

  test("a refusal from open() arrives only after the password was proven", async () => {
    let opened = 0;
    const route: Route = {
      verifier: clientVerifier,
      open: async () => {
        opened++;
        return { kind: "refuse", sqlstate: "55000", message: "branch br-x is being anonymized: Anonymizing table shop.public.users (1/3)" };
      },
    };
    const e = await startEngine({ route: () => route });
    try {
      const wrong = clientSql(e.port, { password: "wrong" });
      await assert.rejects(wrong`SELECT 1`, { code: "28P01" });
      await wrong.end();
      assert.equal(opened, 0, "open() must not run for a client that failed authentication");
      const sql = clientSql(e.port);
      await assert.rejects(sql`SELECT 1`, { code: "55000", message: /being anonymized: Anonymizing table shop\.public\.users \(1\/3\)/ });
      await sql.end();
      assert.equal(opened, 1);
      const out = await psql(conninfo(e.port), ["-Atc", "SELECT 1"], { password: CLIENT_PASSWORD });
      assert.match(out.stderr, /FATAL:\s+branch br-x is being anonymized/);
    } finally {
      await e.close();
    }
  });

  test("replication connections are refused before anything else", async () => {
    const out = await psql(conninfo(engine.port, "replication=database"), ["-Atc", "IDENTIFY_SYSTEM"], { password: CLIENT_PASSWORD });
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /replication connections are not allowed/);
  });

  test("an exception in lookup() becomes a neutral connection error, never a crash", async () => {
    const e = await startEngine({
      route: () => {
        throw new Error("metadata database is down at 10.0.0.7");
      },
    });
    try {
      const sql = clientSql(e.port);
      const error = await sql`SELECT 1`.then(() => null, (err: { code?: string; message: string }) => err);
      await sql.end();
      assert.equal(error?.code, "08006");
      assert.doesNotMatch(error!.message, /10\.0\.0\.7/);
      assert.match(e.logs.text(), /connection set-up failed/);
    } finally {
      await e.close();
    }
  });
});

describe("TLS", () => {
  test("psql with sslmode=require gets an encrypted session", async () => {
    const out = await psql(conninfo(tlsEngine.port).replace("sslmode=disable", "sslmode=require"), ["-c", "\\conninfo"], {
      password: CLIENT_PASSWORD,
    });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /SSL connection \(protocol: TLSv1\.[23]/);
    assert.equal(tlsEngine.lookups.at(-1)!.tls, true);
  });

  test("postgres.js with ssl 'require' works", async () => {
    const sql = clientSql(tlsEngine.port, { ssl: "require" });
    const [row] = await sql`SELECT 42 AS answer`;
    await sql.end();
    assert.equal(row!.answer, 42);
    assert.equal(tlsEngine.lookups.at(-1)!.tls, true);
  });

  test("the SNI server name reaches lookup()", async () => {
    // libpq sends SNI for a host name; hostaddr keeps it off DNS.
    const info = `host=ep-cool-frog-123.ep.test hostaddr=127.0.0.1 port=${tlsEngine.port} user=alice dbname=branchdb sslmode=require`;
    const out = await psql(info, ["-Atc", "SELECT 1"], { password: CLIENT_PASSWORD });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(tlsEngine.lookups.at(-1)!.serverName, "ep-cool-frog-123.ep.test");
  });

  test("without TLS configured, SSLRequest is answered N: sslmode=require fails, prefer falls back to plain", async () => {
    const required = await psql(conninfo(engine.port).replace("sslmode=disable", "sslmode=require"), ["-Atc", "SELECT 1"], {
      password: CLIENT_PASSWORD,
    });
    assert.notEqual(required.code, 0);
    assert.match(required.stderr, /server does not support SSL/);
    const preferred = await psql(conninfo(engine.port).replace("sslmode=disable", "sslmode=prefer"), ["-Atc", "SELECT 7"], {
      password: CLIENT_PASSWORD,
    });
    assert.equal(preferred.stdout.trim(), "7", preferred.stderr);
  });
});

describe("startup parameters", () => {
  test("options=endpoint=ep-… is parsed for lookup() and not passed on; -c settings are", async () => {
    const sql = clientSql(engine.port, {
      connection: { options: "endpoint=ep-quiet-lake-42 -c search_path=custom,public --statement-timeout=1234" },
    });
    const [row] = await sql`SELECT current_setting('search_path') AS sp, current_setting('statement_timeout') AS st`;
    await sql.end();
    assert.deepEqual({ ...row }, { sp: "custom,public", st: "1234ms" });
    const info = engine.lookups.at(-1)!;
    assert.equal(info.options.get("endpoint"), "ep-quiet-lake-42");
    assert.equal(info.options.get("search_path"), "custom,public");
    assert.equal(info.options.get("statement_timeout"), "1234");
  });

  test("psql's options parameter with Neon's convention works too", async () => {
    const out = await psql(`${conninfo(engine.port)} options=endpoint=ep-psql-1`, ["-Atc", "SELECT 1"], { password: CLIENT_PASSWORD });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(engine.lookups.at(-1)!.options.get("endpoint"), "ep-psql-1");
  });

  test("safe client settings reach the backend; the route's params win; unsafe ones stay behind", async () => {
    const sql = clientSql(engine.port, {
      connection: { application_name: "client-app", TimeZone: "Asia/Tokyo", client_min_messages: "debug5", work_mem: "77MB" },
    });
    const [row] = await sql`SELECT current_setting('application_name') AS app, current_setting('TimeZone') AS tz,
      current_setting('client_min_messages') AS cmm, current_setting('work_mem') AS wm`;
    await sql.end();
    assert.equal(row!.app, "from-route");
    assert.equal(row!.tz, "Asia/Tokyo");
    assert.notEqual(row!.cmm, "debug5");
    assert.notEqual(row!.wm, "77MB");
  });

  test("the client's user and database never reach the backend", async () => {
    const sql = clientSql(engine.port, { user: "alice", database: "postgres" });
    const [row] = await sql`SELECT current_database() AS db`;
    await sql.end();
    assert.equal(row!.db, backend.db.name);
  });

  test("a protocol 2.0 startup is refused with a clear error", async () => {
    const socket = net.connect(engine.port, "127.0.0.1");
    const packet = Buffer.alloc(8);
    packet.writeInt32BE(8, 0);
    packet.writeInt32BE(2 << 16, 4);
    socket.write(packet);
    const error = firstError(await collectUntilClose(socket));
    assert.deepEqual(error, { code: "0A000", message: "unsupported frontend protocol 2.0: server supports 3.0 to 3.0" });
  });

  test("protocol 3.2 and _pq_ options get NegotiateProtocolVersion (3.0, options named), then SCRAM as usual", async () => {
    const socket = net.connect(engine.port, "127.0.0.1");
    const received = collectUntilClose(socket);
    const packet = startupMessage({ user: "alice", database: "branchdb", "_pq_.compression": "on" });
    packet.writeInt32BE((3 << 16) | 2, 4);
    socket.write(packet);
    const first = await new Promise<Buffer>((resolve) => socket.once("data", resolve));
    socket.end();
    await received;
    assert.equal(String.fromCharCode(first[0]!), "v");
    const length = first.readInt32BE(1);
    assert.equal(first.readInt32BE(5), 3 << 16, "newest minor version we speak: 3.0");
    assert.equal(first.readInt32BE(9), 1);
    assert.equal(first.toString("utf8", 13, length + 1), "_pq_.compression\0");
    assert.equal(String.fromCharCode(first[length + 1]!), "R", "then the SASL request");
  });
});
