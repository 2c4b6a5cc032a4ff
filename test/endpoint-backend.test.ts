// The engine as a client of the physical server: each password method the
// server may ask for (SCRAM-SHA-256, MD5, cleartext), TLS towards the backend,
// the route's login window, and what the client is (not) told when the
// backend refuses.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import postgres from "postgres";
import { ensureEndpointCertificate } from "../src/endpoint/index.ts";
import { type BackendFixture, CLIENT_PASSWORD, clientSql, createBackendFixture, serverPort, socketBackend, startEngine } from "./helpers/endpoint.ts";
import { waitFor } from "./helpers/harness.ts";

let backend: BackendFixture;

before(async () => {
  backend = await createBackendFixture("epback");
});
after(async () => {
  await backend.drop();
});

/** Connects through a fresh engine routed to `target`; returns the error or the row. */
async function throughEngine(target: Parameters<typeof startEngine>[0]["target"]) {
  const e = await startEngine({ target });
  try {
    const sql = clientSql(e.port);
    const result = await sql`SELECT current_user AS who`.then(
      (rows) => ({ who: rows[0]!.who as string }),
      (error: { code?: string; message: string }) => ({ code: error.code, message: error.message }),
    );
    await sql.end();
    return { result, logs: e.logs.text() };
  } finally {
    await e.close();
  }
}

describe("backend SCRAM-SHA-256 (the test server's Unix socket checks passwords)", () => {
  test("the route's role logs in with its password", async () => {
    const { result } = await throughEngine(() => backend.target());
    assert.deepEqual(result, { who: backend.role });
  });

  test("a wrong backend password: the client gets a neutral 08006 naming nothing physical; the log says why, without the password", async () => {
    const wrongPassword = `wrong-${randomBytes(6).toString("hex")}`;
    const { result, logs } = await throughEngine(() => backend.target({ password: wrongPassword }));
    assert.deepEqual(result, { code: "08006", message: "could not connect to the branch database" });
    assert.match(logs, /backend login failed/);
    assert.match(logs, new RegExp(`password authentication failed for user \\\\"${backend.role}\\\\"`));
    assert.ok(!logs.includes(wrongPassword), "the backend password must never be logged");
  });

  test("a backend nobody listens on gives the same neutral error", async () => {
    const { result } = await throughEngine(() => backend.target({ host: "127.0.0.1", port: 1 }));
    assert.deepEqual(result, { code: "08006", message: "could not connect to the branch database" });
  });
});

describe("backend MD5 and cleartext passwords", () => {
  // pg_hba lines for two roles of this file only, put first in the test
  // server's pg_hba.conf and removed afterwards; other tests are unaffected.
  const hbaFile = path.join(path.dirname(process.env.ANONBRANCH_TEST_PG_SOCKET ?? "/nonexistent"), "data", "pg_hba.conf");
  const md5Role = `epmd5_${randomBytes(3).toString("hex")}`;
  const clearRole = `epclear_${randomBytes(3).toString("hex")}`;
  const password = randomBytes(12).toString("base64url");
  let original = "";

  /** True once a wrong password is refused for `role` over TCP (trust would let it in). */
  const checksPasswords = async (role: string) => {
    const probe = postgres({ host: "127.0.0.1", port: serverPort(), user: role, password: "definitely-wrong", database: backend.db.name, max: 1, connect_timeout: 5 });
    const refused = await probe`SELECT 1`.then(() => false, (error: { code?: string }) => error.code === "28P01");
    await probe.end();
    return refused;
  };

  before(async () => {
    await backend.admin.unsafe(`SET password_encryption = 'md5'; CREATE ROLE "${md5Role}" LOGIN PASSWORD '${password}'`);
    await backend.admin.unsafe(`CREATE ROLE "${clearRole}" LOGIN PASSWORD '${password}'`);
    original = await readFile(hbaFile, "utf8");
    await writeFile(hbaFile, `host all ${md5Role} 127.0.0.1/32 md5\nhost all ${clearRole} 127.0.0.1/32 password\n${original}`);
    await backend.admin`SELECT pg_reload_conf()`;
    await waitFor(async () => (await checksPasswords(md5Role)) && (await checksPasswords(clearRole)), Boolean);
  });
  after(async () => {
    await writeFile(hbaFile, original);
    await backend.admin`SELECT pg_reload_conf()`;
    await backend.admin.unsafe(`DROP ROLE IF EXISTS "${md5Role}"`);
    await backend.admin.unsafe(`DROP ROLE IF EXISTS "${clearRole}"`);
  });

  for (const [method, role] of [["md5", () => md5Role], ["password (cleartext)", () => clearRole]] as const) {
    test(`${method}: the right password logs in, a wrong one gives the neutral error`, async () => {
      const target = (pw: string) => () => backend.target({ host: "127.0.0.1", port: serverPort(), user: role(), password: pw });
      assert.deepEqual((await throughEngine(target(password))).result, { who: role() });
      assert.deepEqual((await throughEngine(target("nope"))).result, { code: "08006", message: "could not connect to the branch database" });
    });
  }
});

describe("backend TLS", () => {
  let stateDir: string;
  before(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), "endpoint-backend-tls-"));
  });
  after(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  test("ssl 'require' encrypts towards a TLS server (a second engine in front of the test server)", async () => {
    const cert = await ensureEndpointCertificate(stateDir, ["127.0.0.1"]);
    const inner = await startEngine({ target: () => backend.target(), tls: cert });
    try {
      const { result } = await throughEngine(() => ({
        host: "127.0.0.1",
        port: inner.port,
        ssl: "require",
        user: "alice",
        password: CLIENT_PASSWORD,
        database: "branchdb",
        login: (f) => f(),
      }));
      assert.deepEqual(result, { who: backend.role });
      assert.equal(inner.lookups.at(-1)!.tls, true, "the inner engine saw an encrypted connection");
    } finally {
      await inner.close();
    }
  });

  test("ssl 'require' against a server without TLS fails (neutrally); 'prefer' falls back to plain TCP", async () => {
    const tcp = { host: "127.0.0.1", port: serverPort() };
    const required = await throughEngine(() => backend.target({ ...tcp, ssl: "require" }));
    assert.deepEqual(required.result, { code: "08006", message: "could not connect to the branch database" });
    assert.match(required.logs, /server does not support SSL, but SSL was required/);
    assert.deepEqual((await throughEngine(() => backend.target({ ...tcp, ssl: "prefer" }))).result, { who: backend.role });
  });

  test("a Unix-socket backend ignores ssl (like libpq)", async () => {
    assert.deepEqual((await throughEngine(() => backend.target({ ...socketBackend(), ssl: "require" }))).result, { who: backend.role });
  });
});

describe("the route's login window", () => {
  test("the backend login runs inside target.login(): a NOLOGIN role gets in only while the window is open", async () => {
    await backend.admin.unsafe(`ALTER ROLE "${backend.role}" NOLOGIN`);
    try {
      const events: string[] = [];
      const windowed = await throughEngine(() =>
        backend.target({
          login: async (authenticate) => {
            await backend.admin.unsafe(`ALTER ROLE "${backend.role}" LOGIN`);
            events.push("open");
            try {
              const session = await authenticate();
              events.push("authenticated");
              return session;
            } finally {
              await backend.admin.unsafe(`ALTER ROLE "${backend.role}" NOLOGIN`);
              events.push("close");
            }
          },
        }),
      );
      assert.deepEqual(windowed.result, { who: backend.role });
      assert.deepEqual(events, ["open", "authenticated", "close"]);
      const [role] = await backend.admin`SELECT rolcanlogin FROM pg_roles WHERE rolname = ${backend.role}`;
      assert.equal(role!.rolcanlogin, false);
      // Without the window the same role is refused, and the client learns nothing about why.
      assert.deepEqual((await throughEngine(() => backend.target())).result, { code: "08006", message: "could not connect to the branch database" });
    } finally {
      await backend.admin.unsafe(`ALTER ROLE "${backend.role}" LOGIN`);
    }
  });
});
