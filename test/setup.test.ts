// scripts/setup.sh decides what to install by what each step really uses. These
// tests point it at a fake pg_config (a PostgreSQL without server headers, as
// on a fresh machine) and put recorders for apt-get/apt-cache first on PATH, so
// they do not depend on what this machine happens to have installed.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

let dir: string;

function script(path: string, body: string): void {
  writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path, 0o755);
}

/** A fake pg_config whose server include dir and PGXS makefile live under `root`. */
function fakePgConfig(root: string, withHeaders: boolean): string {
  mkdirSync(join(root, "include/server"), { recursive: true });
  mkdirSync(join(root, "pgxs"), { recursive: true });
  // The PGXS makefile is there either way: on Debian it ships with the client package.
  writeFileSync(join(root, "pgxs/pgxs.mk"), "# pgxs\n");
  if (withHeaders) writeFileSync(join(root, "include/server/postgres.h"), "/* headers */\n");
  const bin = join(root, "pg_config");
  script(
    bin,
    `case "$1" in
  --includedir-server) echo "${root}/include/server" ;;
  --pgxs) echo "${root}/pgxs/pgxs.mk" ;;
  --sharedir) echo "${root}/share" ;;
  *) exit 1 ;;
esac`,
  );
  return bin;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  aptCalls: string[];
}

/** Runs setup with recorders first on PATH; `packages` are the ones apt-cache knows. */
function runSetup(pgConfig: string, opts: { uid?: number; packages?: string[]; args?: string[] } = {}): Run {
  const bin = mkdtempSync(join(dir, "bin-"));
  const log = join(bin, "apt.log");
  script(join(bin, "apt-get"), `echo "apt-get $*" >> "${log}"`);
  const known = (opts.packages ?? ["postgresql-server-dev-15", "postgresql-client-15", "postgresql-15", "gcc", "make"]).join(" ");
  script(join(bin, "apt-cache"), `echo "apt-cache $*" >> "${log}"; for p in ${known}; do [ "$2" = "$p" ] && exit 0; done; exit 100`);
  if (opts.uid !== undefined) script(join(bin, "id"), `[ "$1" = -u ] && echo ${opts.uid} || /usr/bin/id "$@"`);
  const result = spawnSync("bash", ["scripts/setup.sh", ...(opts.args ?? ["start", "--deps-only"])], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, PG_CONFIG: pgConfig, SUDO: "" },
  });
  const aptCalls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, aptCalls };
}

describe("setup: what it installs", () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "anonbranch-setup-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("asks for postgresql-server-dev-15 when postgres.h is missing, although pgxs.mk is there", () => {
    const run = runSetup(fakePgConfig(join(dir, "no-headers"), false));
    assert.equal(run.status, 0, run.stderr);
    const install = run.aptCalls.filter((c) => c.startsWith("apt-get") && c.includes(" install "));
    assert.equal(install.length, 1, run.aptCalls.join("\n"));
    assert.match(install[0]!, /\bpostgresql-server-dev-15\b/);
    // one line saying what and why
    const lines = run.stdout.split("\n").filter((l) => l.includes("installing"));
    assert.equal(lines.length, 1, run.stdout);
    assert.match(lines[0]!, /postgresql-server-dev-15 \(no postgres\.h under .*include\/server/);
  });

  it("installs nothing when the headers are there", () => {
    const run = runSetup(fakePgConfig(join(dir, "headers"), true));
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.aptCalls.filter((c) => c.includes(" install ")), []);
  });

  it("stops with one line naming the package and the command when it is not root and has no sudo", () => {
    const run = runSetup(fakePgConfig(join(dir, "no-root"), false), { uid: 1000 });
    assert.equal(run.status, 1);
    assert.deepEqual(run.aptCalls, [], "nothing may be attempted");
    const lines = run.stderr.trim().split("\n");
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /postgresql-server-dev-15/);
    assert.match(lines[0]!, /apt-get install postgresql-server-dev-15/);
  });

  it("stops before installing anything when a package is not in the apt sources", () => {
    const run = runSetup(fakePgConfig(join(dir, "no-package"), false), { packages: [] });
    assert.equal(run.status, 1);
    assert.deepEqual(run.aptCalls.filter((c) => c.includes(" install ")), []);
    assert.match(run.stderr, /no package postgresql-server-dev-15 in your apt sources/);
  });

  it("--dry-run reports what it would install and changes nothing", () => {
    const run = runSetup(fakePgConfig(join(dir, "dry"), false), { args: ["test", "--dry-run"] });
    assert.equal(run.status, 1);
    assert.deepEqual(run.aptCalls, []);
    assert.match(run.stdout, /would install: postgresql-server-dev-15/);
  });
});
