// Issue 9, from the attacker's side: a developer key, the branch credentials
// it is given, and everything those can do on the branch — then the worker
// masks again (anonymize, reset_to_parent). Nothing the branch user wrote may
// run with more rights than the branch role, labels may not undo the
// project's rules, and no rule may copy a masked column's original value.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { branchCredentials, connectAsUser, type BranchUser } from "./helpers/branch-user.ts";
import { startHarness, waitFor, type Harness, type MintedKey } from "./helpers/harness.ts";
import { connect, connectWithPassword, testServerUrl, type Sql } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;
let admin: Sql;
let projectId: string;
let dev: MintedKey;
let ci: MintedKey;

const rule = (column: string, fn: Record<string, unknown>) => ({
  database_name: shop.name, schema_name: "public", table_name: "users", column_name: column, ...fn,
});
const projectRules = () => [
  rule("email", { masking_function: "pg_catalog.concat(pg_catalog.md5(email), '@example.com')" }),
  rule("name", { masking_value: "'X'" }),
];
const stem = (branchId: string) => branchId.replaceAll("-", "_");
const terminal = (s: string) => ["anonymized", "error", "initialization_error"].includes(s);
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

async function status(branchId: string, token?: string) {
  const res = await h.request("GET", `/projects/${projectId}/branches/${branchId}/anonymized_status`, undefined, token);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { state: string; status_message: string };
}
const settle = (branchId: string) => waitFor(() => status(branchId), (s) => terminal(s.state) , 120_000);

/** Starts a run (its POST leaves the terminal state at once) and waits for its end. */
async function rerun(branchId: string, verb: "anonymize" | "reset_to_parent", token: string) {
  const res = await h.request("POST", `/projects/${projectId}/branches/${branchId}/${verb}`, undefined, token);
  assert.equal(res.status, 200, `${verb}: ${JSON.stringify(res.body)}`);
  return settle(branchId);
}

async function devBranch(name: string, token = dev.key, extra: Record<string, unknown> = {}) {
  const res = await h.request(
    "POST",
    `/projects/${projectId}/branch_anonymized`,
    { branch_create: { branch: { name, expires_at: inAnHour() } }, start_anonymization: true, ...extra },
    token,
  );
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const id = res.body.branch.id as string;
  const final = await settle(id);
  assert.equal(final.state, "anonymized", final.status_message);
  return { id, user: await branchCredentials(h, projectId, id, token) };
}

/** Attributes and memberships of every role of the branch, as the admin sees them. */
async function roleState(branchId: string) {
  const prefix = `${stem(branchId)}_`;
  const attributes = await admin`
    SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls
    FROM pg_roles WHERE starts_with(rolname, ${prefix}) ORDER BY rolname`;
  const memberships = await admin`
    SELECT r.rolname AS role, m.rolname AS member FROM pg_auth_members am
    JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
    WHERE starts_with(r.rolname, ${prefix}) OR starts_with(m.rolname, ${prefix}) ORDER BY 1, 2`;
  return { attributes, memberships, prefix };
}

function assertRolesAsMade(state: Awaited<ReturnType<typeof roleState>>) {
  for (const r of state.attributes) {
    // The masker bypasses row security by design (a forced policy must not hide rows from masking).
    const masker = r.rolname === `${state.prefix}mask`;
    assert.deepEqual(
      [r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls],
      [false, false, false, false, masker],
      `${r.rolname} gained an attribute`,
    );
  }
  const owner = `${state.prefix}owner`;
  for (const m of state.memberships) {
    assert.ok(
      m.role === owner && (m.member === `${state.prefix}mask` || /_c\d+$/.test(m.member)),
      `unexpected membership: ${m.member} in ${m.role}`,
    );
  }
}

before(async () => {
  shop = await createShop(300, "secesc");
  admin = connect(testServerUrl(), { max: 1 });
  h = await startHarness();
  projectId = (await h.registerProject([shop.name], "escalation", projectRules())).projectId;
  dev = await h.mintKey({ role: "developer", projects: [projectId] });
  ci = await h.mintKey({ role: "ci", projects: [projectId] });
});

after(async () => {
  await h?.close();
  await shop?.drop();
  await admin?.end();
});

// The function the attacker plants: every call tries RESET ROLE and ALTER ROLE … SUPERUSER, and records who it ran as,
// from which client (application_name) and whether PostgreSQL held it in a security-restricted operation (SET ROLE refused).
const plant = (owner: string) => `
  CREATE TABLE public.observed (how text, cu name, su name, cu_super bool, su_super bool, escalated bool, app text, restricted bool);
  CREATE FUNCTION public.f(how text, t text) RETURNS text LANGUAGE plpgsql AS $f$
  DECLARE esc bool := false; restricted bool := false;
  BEGIN
    -- RESET ROLE returns to the role the session started with; SET ROLE NONE to its login role.
    BEGIN RESET ROLE; SET ROLE NONE; EXCEPTION WHEN others THEN restricted := SQLERRM LIKE '%security-restricted operation%'; END;
    BEGIN EXECUTE format('ALTER ROLE %I SUPERUSER', '${owner}'); esc := true; EXCEPTION WHEN others THEN NULL; END;
    INSERT INTO public.observed SELECT how, current_user, session_user,
      (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user),
      (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user), esc,
      pg_catalog.current_setting('application_name'), restricted;
    RETURN t;
  END $f$;
  CREATE FUNCTION public.g(t text) RETURNS text IMMUTABLE LANGUAGE plpgsql AS $g$
  BEGIN PERFORM public.f('index', t); RETURN t; END $g$;
  CREATE FUNCTION public.trig() RETURNS trigger LANGUAGE plpgsql AS $t$
  BEGIN PERFORM public.f('trigger', NEW.phone); RETURN NEW; END $t$;`;

/** Each way in: SQL the branch user runs, and whether the masking run must reach it. */
const vectors: [string, string, boolean][] = [
  ["check", `ALTER TABLE users ADD CONSTRAINT attacker_check CHECK (public.f('check', phone) IS NOT NULL OR phone IS NULL)`, true],
  // The table takes the anon path (the rule uses a masked column), where rules and triggers are off.
  ["rule", `CREATE RULE attacker_rule AS ON UPDATE TO users DO ALSO SELECT public.f('rule', NEW.phone)`, false],
  // The masker bypasses row security: a forced policy neither hides rows from masking nor runs.
  ["rls", `ALTER TABLE users ENABLE ROW LEVEL SECURITY; ALTER TABLE users FORCE ROW LEVEL SECURITY;
           CREATE POLICY attacker_policy ON users USING (public.f('rls', phone) IS NOT NULL OR true) WITH CHECK (true)`, false],
  ["domain", `CREATE DOMAIN public.attacker_text AS text CHECK (public.f('domain', VALUE) IS NOT NULL OR VALUE IS NULL);
              ALTER TABLE users ALTER COLUMN name TYPE public.attacker_text`, true],
  ["index", `CREATE INDEX attacker_index ON users ((public.g(phone)))`, true],
  ["trigger", `CREATE TRIGGER attacker_trigger BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION public.trig();
               ALTER TABLE users ENABLE ALWAYS TRIGGER attacker_trigger`, false],
  ["search_path", `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = public, pg_catalog', current_database()); END $$;
                   ALTER ROLE CURRENT_USER SET search_path = public, pg_catalog;
                   CREATE FUNCTION public.md5(text) RETURNS text LANGUAGE sql AS $$ SELECT public.f('search_path', $1) $$;
                   CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT public.f('search_path', $1) $$`, false],
];

describe("no superuser session runs the branch user's code", () => {
  // With the rule and the policy (they use masked columns) users takes the anon path (UPDATE); without them, the one-pass rewrite.
  for (const [path, installed] of [["anon", vectors], ["rewrite", vectors.filter(([how]) => how !== "rule" && how !== "rls")]] as const) {
  test(`CHECK, rule, forced RLS, domain, index, re-enabled trigger, search_path shadowing (${path} path): the run never gives a superuser`, async (t) => {
    const { id, user } = await devBranch(`escalate-${path}`);
    const owner = `${stem(id)}_owner`;
    // An unqualified md5() and lower() in a branch rule: resolved through search_path if anything is.
    const patch = await h.request("PATCH", `/projects/${projectId}/branches/${id}/masking_rules`, {
      masking_rules: [...projectRules(), rule("phone", { masking_function: "md5(phone)" }), rule("address", { masking_function: "lower(address)" })],
    }, dev.key);
    assert.equal(patch.status, 200, JSON.stringify(patch.body));
    const sql = connectAsUser(user);
    try {
      await sql.unsafe(plant(owner));
      for (const [, statement] of installed) await sql.unsafe(statement);
      // Installing them ran some (a CHECK validates, an index builds): only the run's calls count.
      await sql.unsafe("DELETE FROM public.observed");
      const refused = await sql.unsafe(`CREATE EVENT TRIGGER attacker_event ON ddl_command_end EXECUTE FUNCTION public.trig()`).then(
        () => null,
        (e: Error) => e.message,
      );
      assert.match(refused ?? "", /permission denied/, "a branch user cannot create event triggers");
    } finally {
      await sql.end();
    }
    const before = await roleState(id);
    assertRolesAsMade(before);

    const run = await rerun(id, "anonymize", dev.key);
    assert.equal(run.state, "anonymized", run.status_message);
    assertRolesAsMade(await roleState(id));

    const check = connectAsUser(user);
    try {
      const seen = await check`SELECT how, cu, su, cu_super, su_super, escalated, app, restricted FROM public.observed`;
      // Every data-plane session of anonbranch says application_name 'anonbranch'. The only other sessions that can
      // reach the planted index are the server's own: autovacuum's ANALYZE, whose timing is the server's.
      const run = seen.filter((r) => r.app === "anonbranch");
      const server = seen.filter((r) => r.app !== "anonbranch");
      const fired = new Set(run.map((r) => r.how as string));
      const last = await h.request("GET", `/projects/${projectId}/branches/${id}/anonymized_status`);
      t.diagnostic(`vectors reached: ${[...fired].sort().join(", ")}; paths: ${JSON.stringify(last.body.last_run?.tables?.map((x: { table: string; path: string; reason: string }) => [x.table, x.path, x.reason]))}`);
      assert.deepEqual(last.body.last_run.tables.map((x: { path: string }) => x.path), [path]);
      for (const [how, , mustFire] of installed) {
        if (mustFire) assert.ok(fired.has(how), `the ${how} vector never ran during the masking run: the test proves nothing for it`);
      }
      const firedAnywhere = new Set(seen.map((r) => r.how as string));
      for (const [how, , mustFire] of vectors) {
        if (!mustFire) assert.ok(!firedAnywhere.has(how), `the ${how} vector ran during masking`);
      }
      t.diagnostic(`calls from the server's own sessions (autovacuum): ${server.length}`);
      assert.deepEqual(seen.filter((r) => r.cu_super || r.escalated), [], "the planted function ran with a superuser's rights");
      assert.deepEqual(run.filter((r) => r.su_super), [], "a masking session logged in as a superuser ran the planted function");
      const sessionUsers = new Set(run.map((r) => r.su as string));
      assert.deepEqual([...sessionUsers], [`${stem(id)}_mask`], "masking sessions log in as the branch's masker");
      // Autovacuum logs in as the bootstrap superuser but runs index expressions as the table's owner inside a
      // security-restricted operation (PostgreSQL's guarantee for every table on a server at its defaults).
      const unrestricted = server.filter((r) => !r.restricted || r.cu !== owner);
      assert.deepEqual(unrestricted, [], "a session other than the run's ran the planted function outside a security-restricted operation");
    } finally {
      await check.end();
    }

    const reset = await rerun(id, "reset_to_parent", dev.key);
    assert.equal(reset.state, "anonymized", reset.status_message);
    assertRolesAsMade(await roleState(id));
    const [parentSuper] = await admin`SELECT count(*)::int AS n FROM pg_roles WHERE starts_with(rolname, ${`${stem(id)}_`}) AND rolsuper`;
    assert.equal(parentSuper!.n, 0);
  });
  }
});

describe("labels set over SQL cannot undo the project's rules", () => {
  for (const [who, key] of [["developer", () => dev], ["ci", () => ci]] as const) {
    test(`${who} key: a label replacing a project rule stops anonymize and reset; names stay masked; audited`, async () => {
      const { id, user } = await devBranch(`labels-${who}`, key().key);
      const physical = `${stem(id)}__${shop.name}`;
      const [before] = await admin`SELECT oid FROM pg_database WHERE datname = ${physical}`;
      const sql = connectAsUser(user);
      try {
        assert.deepEqual(
          (await sql`SELECT DISTINCT name FROM users`).map((r) => r.name),
          ["X"],
        );
        await sql.unsafe(`SECURITY LABEL FOR anon ON COLUMN users.name IS 'MASKED WITH FUNCTION pg_catalog.lower(name)'`);
      } finally {
        await sql.end();
      }
      const rules = await h.request("GET", `/projects/${projectId}/branches/${id}/masking_rules`, undefined, key().key);
      const name = rules.body.masking_rules.find((r: { column_name: string }) => r.column_name === "name");
      assert.deepEqual([name.masking_value, name.masking_function ?? null], ["'X'", null], "the label did not replace the project rule");

      for (const verb of ["reset_to_parent", "anonymize"] as const) {
        const run = await rerun(id, verb, key().key);
        assert.equal(run.state, "error", `${verb}: ${run.status_message}`);
        assert.match(run.status_message, new RegExp(`SECURITY LABEL on ${shop.name}\\.public\\.users\\.name .*would replace project ${projectId}'s rule`));
        assert.match(run.status_message, /MASKED WITH VALUE 'X'/);
        const [now] = await admin`SELECT oid FROM pg_database WHERE datname = ${physical}`;
        assert.equal(now?.oid, before?.oid, `${verb}: the masked copy was dropped or re-cloned`);
        const names = await withDatabase(physical, (db) => db`SELECT DISTINCT name FROM users`);
        assert.deepEqual(names.map((r) => r.name), ["X"], `${verb}: names were unmasked`);
      }
      const log = await h.request("GET", `/projects/${projectId}/audit_log?limit=100`);
      const refusals = log.body.events.filter((e: { action: string; branch_id: string }) => e.action === "masking_rules.label_refused" && e.branch_id === id);
      assert.equal(refusals.length, 2, JSON.stringify(log.body.events.map((e: { action: string }) => e.action)));
      assert.equal(refusals[0].actor.role, who);
      assert.match(JSON.stringify(refusals[0].after.problems), /would replace project/);
    });
  }
});

describe("no rule copies a masked column's original value", () => {
  const leaks = [
    "pg_catalog.concat(name, '')",
    "pg_catalog.lower(name)",
    "anon.partial(name, 1, 'xxx', 1)",
    "name::text",
    "CASE WHEN phone IS NULL THEN NULL ELSE name END",
  ];

  test("POST and PATCH refuse each cross-column rule with 422 naming the column", async () => {
    const { id } = await devBranch("cross-api");
    for (const expression of leaks) {
      const rules = [...projectRules(), rule("phone", { masking_function: expression })];
      const post = await h.request("POST", `/projects/${projectId}/branch_anonymized`, {
        branch_create: { branch: { expires_at: inAnHour() } }, masking_rules: rules,
      }, dev.key);
      assert.equal(post.status, 422, `POST ${expression}: ${JSON.stringify(post.body)}`);
      assert.match(post.body.message, /reads column users\.name, which is masked/);
      const patch = await h.request("PATCH", `/projects/${projectId}/branches/${id}/masking_rules`, { masking_rules: rules }, dev.key);
      assert.equal(patch.status, 422, `PATCH ${expression}: ${JSON.stringify(patch.body)}`);
      assert.match(patch.body.message, /copy name's original value into phone/);
      const asAdmin = await h.request("PATCH", `/projects/${projectId}/branches/${id}/masking_rules`, { masking_rules: rules });
      assert.equal(asAdmin.status, 422, "admins cannot copy a masked column either");
    }
  });

  test("as a label over SQL: the run stops, and no phone ever holds a parent's name", async () => {
    const { id, user } = await devBranch("cross-label");
    const originals = new Set((await shop.query((db) => db`SELECT name FROM users`)).map((r) => r.name as string));
    for (const expression of leaks) {
      const sql = connectAsUser(user);
      try {
        await sql.unsafe(`SECURITY LABEL FOR anon ON COLUMN users.phone IS 'MASKED WITH FUNCTION ${expression.replaceAll("'", "''")}'`);
      } finally {
        await sql.end();
      }
      for (const verb of ["reset_to_parent", "anonymize"] as const) {
        const run = await rerun(id, verb, dev.key);
        assert.equal(run.state, "error", `${verb} ${expression}: ${run.status_message}`);
        assert.match(run.status_message, /reads column users\.name, which is masked/);
        const phones = await withDatabase(`${stem(id)}__${shop.name}`, (db) => db`SELECT phone FROM users`);
        assert.ok(!phones.some((r) => originals.has(r.phone as string)), `${verb} ${expression}: a phone holds a parent's name`);
      }
      // The way out the message gives: rules set again through the API (the label goes), and a new run.
      const fixed = await h.request("PATCH", `/projects/${projectId}/branches/${id}/masking_rules`, { masking_rules: projectRules() }, dev.key);
      assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
      const again = await rerun(id, "anonymize", dev.key);
      assert.equal(again.state, "anonymized", again.status_message);
    }
  });
});

describe("what else a branch user can write", () => {
  test("a password the branch user sets opens nothing: its roles cannot log in outside anonbranch's own logins", async () => {
    const { id, user } = await devBranch("password");
    const sql = connectAsUser(user);
    let sessionUser: string;
    try {
      [{ session_user: sessionUser }] = (await sql`SELECT session_user`) as unknown as [{ session_user: string }];
      // As the session user (the endpoint logs in as a gateway role acting as the owner), then as the owner.
      await sql.unsafe(`SET ROLE NONE; ALTER ROLE SESSION_USER PASSWORD 'attacker-pass'`);
      await sql.unsafe(`SET ROLE ${`${stem(id)}_owner`}; ALTER ROLE CURRENT_USER PASSWORD 'attacker-pass'`);
    } finally {
      await sql.end();
    }
    const databases = (await admin`SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1`).map((r) => r.datname as string);
    const roles = [sessionUser!, `${stem(id)}_owner`, `${stem(id)}_mask`];
    const opened: string[] = [];
    for (const role of roles) {
      for (const database of databases) {
        for (const via of ["tcp", "socket"] as const) {
          const url = new URL(testServerUrl(database));
          url.username = role;
          url.password = "attacker-pass";
          const client = via === "socket" ? connectWithPassword(url.toString()) : connect(url.toString(), { max: 1, connect_timeout: 5 });
          try {
            await client`SELECT 1`;
            opened.push(`${role}@${database} (${via})`);
          } catch (error) {
            assert.match((error as Error).message, /not permitted to log in|password authentication failed/);
          } finally {
            await client.end({ timeout: 1 });
          }
        }
      }
    }
    assert.deepEqual(opened, [], "a branch role logged in directly with a password its user set");
  });

  test("memberships a branch session grants (in itself, to a parent role) are revoked before the next run", async (t) => {
    const { id, user } = await devBranch("grants");
    const parentRole = `parent_app_${stem(id).slice(-6)}`;
    await admin.unsafe(`CREATE ROLE ${parentRole} LOGIN PASSWORD 'app-pass'`);
    try {
      const sql = connectAsUser(user);
      let gateway = "";
      try {
        [{ gateway }] = (await sql`SELECT session_user AS gateway`) as unknown as [{ gateway: string }];
        // Older PostgreSQL releases let a session user grant membership in itself.
        await sql.unsafe(`SET ROLE NONE; DO $$ BEGIN EXECUTE format('GRANT %I TO ${parentRole}', session_user); END $$`);
      } catch (error) {
        // This server refuses it; grant it as the admin to stand for one that does not.
        assert.match((error as Error).message, /must have admin option/);
        t.diagnostic("PostgreSQL refused the self-grant; granted by the admin instead");
        await admin.unsafe(`GRANT ${gateway} TO ${parentRole}`);
      } finally {
        await sql.end();
      }
      const granted = await roleState(id);
      assert.ok(granted.memberships.some((m) => m.member === parentRole), "the grant itself works in PostgreSQL ≤ 15");
      const reset = await rerun(id, "reset_to_parent", dev.key);
      assert.equal(reset.state, "anonymized", reset.status_message);
      const after = await roleState(id);
      assert.ok(!after.memberships.some((m) => m.member === parentRole), "the parent role kept its membership");
      assertRolesAsMade(after);
    } finally {
      await admin.unsafe(`DROP ROLE IF EXISTS ${parentRole}`);
    }
  });
});

async function withDatabase<T>(database: string, fn: (db: Sql) => Promise<T>): Promise<T> {
  const db = connect(testServerUrl(database), { max: 1 });
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

export type { BranchUser };
