// Verifiers and startup options: our SCRAM verifiers are PostgreSQL's (each
// side accepts the other's), and the `options` parameter is read the way
// PostgreSQL and Neon read it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { formatScramVerifier, parseScramVerifier, scramVerifierFor } from "../src/endpoint/index.ts";
import { backendStartupParams, parseOptions, splitOptions } from "../src/endpoint/startup.ts";
import { type BackendFixture, clientVerifier, conninfo, createBackendFixture, psql, startEngine } from "./helpers/endpoint.ts";
import { connectWithPassword } from "./helpers/pg.ts";

let backend: BackendFixture;
before(async () => {
  backend = await createBackendFixture("epscram");
});
after(async () => {
  await backend.drop();
});

describe("SCRAM verifiers", () => {
  test("a verifier PostgreSQL made (pg_authid) authenticates that password at the endpoint", async () => {
    const [row] = await backend.admin`SELECT rolpassword FROM pg_authid WHERE rolname = ${backend.role}`;
    const verifier = parseScramVerifier(row!.rolpassword as string);
    const e = await startEngine({ route: () => ({ verifier, open: async () => backend.target() }) });
    try {
      const ok = await psql(conninfo(e.port), ["-Atc", "SELECT 'in'"], { password: backend.password });
      assert.equal(ok.stdout.trim(), "in", ok.stderr);
      const wrong = await psql(conninfo(e.port), ["-Atc", "SELECT 'in'"], { password: `${backend.password}x` });
      assert.match(wrong.stderr, /password authentication failed for user "alice"/);
    } finally {
      await e.close();
    }
  });

  test("a verifier we made is accepted by PostgreSQL as the role's password", async () => {
    const password = "our-own-verifier-pw";
    await backend.admin.unsafe(`ALTER ROLE "${backend.role}" PASSWORD '${formatScramVerifier(scramVerifierFor(password, 4096))}'`);
    try {
      const url = backend.db.url.replace("postgres@", `${backend.role}:${password}@`);
      const sql = connectWithPassword(url);
      const [row] = await sql`SELECT current_user AS who`;
      await sql.end();
      assert.equal(row!.who, backend.role);
      const wrong = connectWithPassword(url.replace(password, "nope"));
      await assert.rejects(wrong`SELECT 1`, { code: "28P01" });
      await wrong.end();
    } finally {
      await backend.admin.unsafe(`ALTER ROLE "${backend.role}" PASSWORD '${backend.password}'`);
    }
  });

  test("text form round-trips; other text is rejected", () => {
    const text = formatScramVerifier(clientVerifier);
    assert.match(text, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    assert.deepEqual(parseScramVerifier(text), clientVerifier);
    for (const bad of ["", "md5abcdef", "SCRAM-SHA-256$4096:c2FsdA==$YQ==:Yg==", "SCRAM-SHA-256$x:c2FsdA==$YQ==:Yg=="]) {
      assert.throws(() => parseScramVerifier(bad), /not a SCRAM-SHA-256 verifier/);
    }
  });

  test("two verifiers of one password differ (fresh salt) and neither contains the password", () => {
    const a = scramVerifierFor("same-password");
    const b = scramVerifierFor("same-password");
    assert.notDeepEqual(a.salt, b.salt);
    assert.ok(!formatScramVerifier(a).includes("same-password"));
  });
});

describe("startup options", () => {
  test("split on whitespace; backslash escapes", () => {
    assert.deepEqual(splitOptions("  -c a=b   endpoint=ep-x\t-c search_path=a\\ b\\\\c "), ["-c", "a=b", "endpoint=ep-x", "-c", "search_path=a b\\c"]);
  });

  test("endpoint=, -c k=v, -ck=v and --k-name=v are parsed; endpoint= is not forwarded", () => {
    const { parsed, forwarded } = parseOptions("endpoint=ep-a-1 -c statement_timeout=5s -cwork_mem=4MB --lock-timeout=3 -c search_path=a\\ b");
    assert.deepEqual(Object.fromEntries(parsed), {
      endpoint: "ep-a-1",
      statement_timeout: "5s",
      work_mem: "4MB",
      lock_timeout: "3",
      search_path: "a b",
    });
    assert.equal(forwarded, "-c statement_timeout=5s -cwork_mem=4MB --lock-timeout=3 -c search_path=a\\ b");
    assert.deepEqual(parseOptions("endpoint=ep-only"), { parsed: new Map([["endpoint", "ep-only"]]), forwarded: null });
    assert.deepEqual(parseOptions(undefined), { parsed: new Map(), forwarded: null });
  });

  test("only safe parameters go to the backend; the route's user and database always win", () => {
    const client = new Map([
      ["user", "alice"],
      ["database", "postgres"],
      ["replication", "database"],
      ["application_name", "app"],
      ["DateStyle", "ISO, DMY"],
      ["client_min_messages", "debug5"],
      ["session_authorization", "postgres"],
      ["_pq_.x", "1"],
    ]);
    const params = backendStartupParams(client, "-c a=b", {
      user: "br_role",
      database: "br_db",
      params: { application_name: "route", USER: "evil", Database: "evil" },
    });
    assert.deepEqual(params, { DateStyle: "ISO, DMY", options: "-c a=b", application_name: "route", user: "br_role", database: "br_db" });
  });
});
