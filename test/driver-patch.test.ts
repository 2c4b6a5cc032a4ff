// postgres.js 3.4.9 ends the process when a connection dies under it (upstream
// issues #1154, #1208, #1199, #1195): a write scheduled with setImmediate runs
// after the socket closed and throws where no caller can catch it. We ship a
// fix as patches/postgres+3.4.9.patch, applied on install by patch-package.
// Each scenario runs in its own process against a pristine copy of the driver
// (the installed one with the patch reversed) and the installed, patched one:
// the pristine copy must show the defect, or this test proves nothing.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { testServerUrl } from "./helpers/pg.ts";

const installed = resolve("node_modules/postgres");
const version = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")).version as string;
const patchFile = resolve(`patches/postgres+${version}.patch`);
let pristine: string;

before(() => {
  const dir = mkdtempSync(join(tmpdir(), "postgres-pristine-"));
  cpSync(installed, join(dir, "node_modules/postgres"), { recursive: true });
  // Paths in the patch are a/node_modules/postgres/…: -p1 from the copy's root.
  execFileSync("patch", ["-R", "-p1", "-s", "-d", dir, "-i", patchFile]);
  pristine = join(dir, "node_modules/postgres");
});

after(() => {
  if (pristine) rmSync(resolve(pristine, "../.."), { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stderr: string;
  result: Record<string, unknown> | null;
}

function runScenario(driverRoot: string, build: "src" | "cjs/src", scenario: string): Run {
  const child = spawnSync(
    process.execPath,
    ["--import", "tsx", "test/helpers/driver-scenarios.ts", join(driverRoot, build, "index.js"), scenario],
    { env: { ...process.env, ANONBRANCH_TEST_PG_URL: testServerUrl() }, encoding: "utf8", timeout: 60_000 },
  );
  const line = child.stdout.trim().split("\n").at(-1);
  return { status: child.status, stderr: child.stderr, result: line ? JSON.parse(line) : null };
}

const crashed = (run: Run) =>
  run.status !== 0 && /Cannot read properties of null \(reading 'write'\)/.test(run.stderr) && /nextWrite/.test(run.stderr);

test("the patch is installed: every build of the driver carries it", () => {
  assert.ok(existsSync(patchFile), `no ${patchFile} for the installed postgres ${version}: upgrade or rebase the patch`);
  for (const build of ["src", "cjs/src", "cf/src"]) {
    for (const file of ["connection.js", "index.js"]) {
      const text = readFileSync(join(installed, build, file), "utf8");
      assert.match(text, /Patched \(anonbranch\)/, `${build}/${file} is not patched: run npm install (postinstall: patch-package)`);
    }
  }
});

test("pg-boss is patched too: a job finished while the database is down no longer ends the worker", () => {
  // Exercised for real by test/faults-phases.test.ts (a burst of creates during -m immediate).
  const version = JSON.parse(readFileSync(resolve("node_modules/pg-boss/package.json"), "utf8")).version as string;
  assert.ok(existsSync(resolve(`patches/pg-boss+${version}.patch`)), `no patch for the installed pg-boss ${version}`);
  assert.match(readFileSync(resolve("node_modules/pg-boss/src/manager.js"), "utf8"), /Patched \(anonbranch\)/);
});

describe("a reserved connection whose backend dies (our branch lock during a restart)", () => {
  test("pristine driver: the next query on it kills the process", () => {
    const run = runScenario(pristine, "src", "reserved");
    assert.ok(crashed(run), `expected the nextWrite crash, got status ${run.status}: ${run.stderr.slice(0, 500)}`);
  });
  for (const build of ["src", "cjs/src"] as const) {
    test(`patched driver (${build}): the query fails with CONNECTION_CLOSED and the pool recovers`, () => {
      const run = runScenario(installed, build, "reserved");
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(run.result, { afterClose: "CONNECTION_CLOSED", pool: "pool works" });
    });
  }
});

describe("a transaction whose connection dies (every drizzle transaction during a restart)", () => {
  test("pristine driver: its next statement kills the process", () => {
    const run = runScenario(pristine, "src", "transaction");
    assert.ok(crashed(run), `expected the nextWrite crash, got status ${run.status}: ${run.stderr.slice(0, 500)}`);
  });
  test("patched driver: the transaction fails with CONNECTION_CLOSED", () => {
    const run = runScenario(installed, "src", "transaction");
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.result, { transaction: "CONNECTION_CLOSED", pool: "pool works" });
  });
  test("pristine driver: once the pool reopens the connection, the transaction's next INSERT commits outside it", () => {
    const run = runScenario(pristine, "src", "transactionReconnected");
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.result, { transaction: "CONNECTION_CLOSED", rowsOutsideTransaction: 1 });
  });
  test("patched driver: that INSERT is refused; nothing is written", () => {
    const run = runScenario(installed, "src", "transactionReconnected");
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.result, { transaction: "CONNECTION_CLOSED", rowsOutsideTransaction: 0 });
  });
});

describe("a reserve() queued behind a connection that closes and reopens", () => {
  test("pristine driver: the reservation is never granted", () => {
    const run = runScenario(pristine, "src", "queuedReserve");
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.result, { reserve: "still waiting after 5 s" });
  });
  test("patched driver: it gets the reopened connection", () => {
    const run = runScenario(installed, "src", "queuedReserve");
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.result, { reserve: "reserved" });
  });
});

test("patched driver: reservations, transactions and queries sharing a small pool all complete, each on its own session", () => {
  const run = runScenario(installed, "src", "leasesUnderLoad");
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.result, { completed: 75 });
});

describe("a new connection whose array-type lookup fails (a reset while connecting does the same)", () => {
  test("pristine driver: the lookup's rejection is unhandled and kills the process", () => {
    const run = runScenario(pristine, "src", "typesLookupFails");
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /permission denied for table pg_type/);
    assert.equal(run.result, null, "it died before answering");
  });
  test("patched driver: the query fails with the server's error; the process goes on", () => {
    const run = runScenario(installed, "src", "typesLookupFails");
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.result, { query: "42501" });
  });
});
