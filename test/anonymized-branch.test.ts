// Anonymized branches end to end, as a user drives them: through the real Hono
// app, a real pg-boss worker and a real PostgreSQL with the anon engine.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startHarness, waitFor, type Harness } from "./helpers/harness.ts";
import { connect, connectWithPassword, testServerUrl } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

let h: Harness;
let shop: ShopDatabase;
let projectId: string;

const rule = (table: string, column: string, fn: { masking_function?: string; masking_value?: string }) => ({
  database_name: shop.name,
  schema_name: "public",
  table_name: table,
  column_name: column,
  ...fn,
});

const emailRule = () => rule("users", "email", { masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')" });
const phoneRule = () => rule("users", "phone", { masking_function: "anon.partial(phone, 2, 'XXX-XXXX', 2)" });
const addressRule = () => rule("users", "address", { masking_value: "'CONFIDENTIAL'" });

/** Contents of a table as one fingerprint, to compare byte for byte. */
async function fingerprint(url: string, table: string): Promise<{ rows: number; md5: string }> {
  const sql = connect(url, { max: 1 });
  try {
    const [row] = await sql.unsafe(
      `SELECT count(*)::int AS rows, md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) AS md5 FROM ${table} t`,
    );
    return { rows: row!.rows, md5: row!.md5 };
  } finally {
    await sql.end();
  }
}

async function status(branchId: string) {
  const res = await h.request("GET", `/projects/${projectId}/branches/${branchId}/anonymized_status`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Waits for a terminal state, recording every state seen on the way. */
async function settle(branchId: string, seen: string[] = []) {
  return waitFor(
    async () => {
      const s = await status(branchId);
      if (seen.at(-1) !== s.state) seen.push(s.state);
      return s;
    },
    (s) => ["anonymized", "error", "initialization_error"].includes(s.state),
  );
}

async function connectAsBranch(branchId: string) {
  const roles = await h.request("GET", `/projects/${projectId}/branches/${branchId}/roles`);
  assert.equal(roles.status, 200);
  const role = roles.body.roles[0].name as string;
  const uri = await h.request(
    "GET",
    `/projects/${projectId}/connection_uri?branch_id=${branchId}&database_name=${shop.name}&role_name=${encodeURIComponent(role)}`,
  );
  assert.equal(uri.status, 200, JSON.stringify(uri.body));
  return { role, uri: uri.body.uri as string, sql: connect(uri.body.uri, { max: 1 }) };
}

before(async () => {
  shop = await createShop(3000);
  h = await startHarness();
});

after(async () => {
  await h?.close();
  await shop?.drop();
});

describe("anonymized branches, end to end", () => {
  let branchId: string;
  let parentBefore: { users: { rows: number; md5: string }; orders: { rows: number; md5: string } };

  test("POST /projects registers an existing database and returns the default branch", async () => {
    const res = await h.request("POST", "/projects", {
      project: { name: "shop", source: { connection_uri: testServerUrl("postgres"), databases: [shop.name] } },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    projectId = res.body.project.id;
    assert.match(projectId, /^[a-z]+-[a-z]+-\d{6}$/);
    assert.equal(res.body.branch.default, true);
    assert.equal(res.body.branch.name, "main");
    assert.match(res.body.branch.id, /^br-[a-z]+-[a-z]+-\d{6}$/);
    assert.deepEqual(res.body.databases.map((d: { name: string }) => d.name), [shop.name]);
    assert.equal(res.body.endpoints[0].host, "127.0.0.1");
    assert.ok(!JSON.stringify(res.body).includes("postgresql://"), "the source URI is not echoed back");
    parentBefore = {
      users: await fingerprint(shop.url, "users"),
      orders: await fingerprint(shop.url, "orders"),
    };
  });

  // How fast it answers is measured by bench/api.bench.ts, not asserted here.
  test("POST branch_anonymized answers 201 before any copying, with current_state init", async () => {
    const res = await h.request("POST", `/projects/${projectId}/branch_anonymized`, {
      branch_create: { branch: { name: "pr-42" } },
      masking_rules: [emailRule(), phoneRule(), addressRule()],
      start_anonymization: true,
      annotation_value: { "github-pr": "42" },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    branchId = res.body.branch.id;
    assert.equal(res.body.branch.current_state, "init");
    assert.equal(res.body.branch.name, "pr-42");
    assert.equal(res.body.operations[0].action, "create_branch");
    assert.equal(res.body.databases[0].name, shop.name, "the API speaks logical database names");
  });

  test("anonymized_status moves created → initialized → anonymizing → anonymized", async () => {
    const seen: string[] = [];
    const final = await settle(branchId, seen);
    assert.equal(final.state, "anonymized", final.status_message);
    const order = ["created", "initialized", "anonymizing", "anonymized"];
    const indexes = seen.map((s) => order.indexOf(s));
    assert.ok(indexes.every((i) => i >= 0), `unexpected states ${seen}`);
    assert.deepEqual([...indexes].sort((a, b) => a - b), indexes, `states out of order: ${seen}`);
    assert.equal(final.last_run.masked_columns, 3);
    assert.equal(final.last_run.triggered_by_username, "admin");
    assert.ok(final.last_run.completed_at >= final.last_run.started_at);

    const branch = await h.request("GET", `/projects/${projectId}/branches/${branchId}`);
    assert.equal(branch.body.branch.current_state, "ready");
    const list = await h.request("GET", `/projects/${projectId}/branches?search=pr-4`);
    assert.deepEqual(list.body.branches.map((b: { id: string }) => b.id), [branchId]);
    assert.deepEqual(list.body.annotations[branchId].value, { "github-pr": "42" });
  });

  test("the branch role connects and sees masked data; everything else equals the parent", async () => {
    const { sql } = await connectAsBranch(branchId);
    const parent = connect(shop.url, { max: 1 });
    try {
      const masked = await sql`SELECT id, email, phone, name, address FROM users ORDER BY id`;
      const original = await parent`SELECT id, email, phone, name, address FROM users ORDER BY id`;
      assert.equal(masked.length, original.length);
      masked.forEach((m, i) => {
        const o = original[i]!;
        assert.equal(m.id, o.id);
        assert.notEqual(m.email, o.email);
        assert.match(m.email, /^[0-9a-f-]{36}@example\.com$/);
        assert.notEqual(m.phone, o.phone);
        assert.equal(m.phone, `+3XXX-XXXX${o.phone.slice(-2)}`);
        assert.equal(m.address, "CONFIDENTIAL");
        assert.equal(m.name, o.name, "columns without a rule are untouched");
      });
      const [orders] = await sql`SELECT count(*)::int AS n, md5(string_agg(o::text, '|' ORDER BY o.id)) AS md5 FROM orders o`;
      assert.deepEqual({ rows: orders!.n, md5: orders!.md5 }, parentBefore.orders, "orders are copied as they are");
      const [orphans] = await sql`SELECT count(*)::int AS n FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE u.id IS NULL`;
      assert.equal(orphans!.n, 0, "foreign keys still hold");
    } finally {
      await sql.end();
      await parent.end();
    }
    assert.deepEqual(await fingerprint(shop.url, "users"), parentBefore.users, "the parent is unchanged");
    assert.deepEqual(await fingerprint(shop.url, "orders"), parentBefore.orders);
  });

  test("the revealed password logs in at the branch's endpoint (SCRAM), a wrong one does not, and neither opens the server", async () => {
    const { role, uri } = await connectAsBranch(branchId);
    assert.equal(role, "neondb_owner", "the logical owner role, the same on every branch");
    const reveal = await h.request("GET", `/projects/${projectId}/branches/${branchId}/roles/${role}/reveal_password`);
    assert.equal(reveal.status, 200);
    assert.equal(decodeURIComponent(new URL(uri).password), reveal.body.password);
    const good = connect(uri, { max: 1 });
    const [me] = await good`SELECT current_user AS current, session_user AS session`;
    await good.end();
    const stem = branchId.replaceAll("-", "_");
    assert.equal(me!.current, `${stem}_owner`, "clients act as the branch's owner role");
    assert.match(me!.session, new RegExp(`^${stem}_c\\d+$`), "logged in by the endpoint as one of the branch's gateway roles");
    const wrong = new URL(uri);
    wrong.password = "wrong-password";
    const bad = connect(wrong.toString(), { max: 1 });
    await assert.rejects(bad`SELECT 1`, /password authentication failed for user "neondb_owner"/);
    await bad.end();
    // Directly on the server, where passwords are checked: the logical name is no role, and the branch's roles cannot log in.
    for (const name of [role, me!.current, me!.session]) {
      const direct = new URL(testServerUrl(shop.name));
      direct.username = name;
      direct.password = reveal.body.password;
      const client = connectWithPassword(direct.toString());
      await assert.rejects(client`SELECT 1`, /password authentication failed|not permitted to log in|does not exist/);
      await client.end();
    }
    const admin = connect(testServerUrl(), { max: 1 });
    const loginable = await admin`SELECT rolname FROM pg_roles WHERE starts_with(rolname, ${`${stem}_`}) AND rolcanlogin`;
    await admin.end();
    assert.deepEqual(loginable.map((r) => r.rolname), [], "no branch role can log in outside anonbranch's own logins");
  });

  test("PATCH adds a rule, anonymize reruns, GET returns four rules", async () => {
    const rules = [emailRule(), phoneRule(), addressRule(), rule("users", "name", { masking_function: "anon.dummy_name()" })];
    const patch = await h.request("PATCH", `/projects/${projectId}/branches/${branchId}/masking_rules`, { masking_rules: rules });
    assert.equal(patch.status, 200, JSON.stringify(patch.body));
    assert.equal(patch.body.masking_rules.length, 4);

    const run = await h.request("POST", `/projects/${projectId}/branches/${branchId}/anonymize`);
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.equal(run.body.state, "anonymizing");
    const again = await h.request("POST", `/projects/${projectId}/branches/${branchId}/anonymize`);
    assert.equal(again.status, 423, "a second run while one is going is refused");
    const final = await settle(branchId);
    assert.equal(final.state, "anonymized", final.status_message);
    assert.equal(final.last_run.masked_columns, 4);

    const get = await h.request("GET", `/projects/${projectId}/branches/${branchId}/masking_rules`);
    assert.equal(get.status, 200);
    assert.deepEqual(
      get.body.masking_rules.map((r: { column_name: string }) => r.column_name).sort(),
      ["address", "email", "name", "phone"],
    );
    const { sql } = await connectAsBranch(branchId);
    try {
      const [left] = await sql`SELECT count(*)::int AS n FROM users WHERE name LIKE 'Customer Number %'`;
      assert.equal(left!.n, 0, "names are masked");
    } finally {
      await sql.end();
    }
  });

  test("labels the branch role sets over SQL are rules: listed, validated and applied by the next run", async () => {
    const { sql } = await connectAsBranch(branchId);
    try {
      await sql`SECURITY LABEL FOR anon ON COLUMN orders.note IS 'masked with value ''redacted'''`;
    } finally {
      await sql.end();
    }
    const get = await h.request("GET", `/projects/${projectId}/branches/${branchId}/masking_rules`);
    const note = get.body.masking_rules.find((r: { column_name: string }) => r.column_name === "note");
    assert.deepEqual(note, rule("orders", "note", { masking_value: "'redacted'" }));

    const run = await h.request("POST", `/projects/${projectId}/branches/${branchId}/anonymize`);
    assert.equal(run.status, 200, JSON.stringify(run.body));
    const final = await settle(branchId);
    assert.equal(final.state, "anonymized", final.status_message);
    assert.equal(final.last_run.masked_columns, 5);
    const again = await connectAsBranch(branchId);
    try {
      const [row] = await again.sql`SELECT count(*)::int AS n FROM orders WHERE note <> 'redacted'`;
      assert.equal(row!.n, 0);
    } finally {
      await again.sql.end();
    }
  });

  test("a rule on an unknown column is refused with 422 naming it, and nothing is created", async () => {
    const before = await h.request("GET", `/projects/${projectId}/branches`);
    const res = await h.request("POST", `/projects/${projectId}/branch_anonymized`, {
      masking_rules: [emailRule(), rule("users", "emial", { masking_function: "anon.fake_email()" })],
    });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(res.body.message, /masking_rules\[1\]/);
    assert.match(res.body.message, /emial/);
    assert.match(res.body.message, /did you mean "email"/);
    assert.ok(res.body.request_id);
    const afterList = await h.request("GET", `/projects/${projectId}/branches`);
    assert.equal(afterList.body.branches.length, before.body.branches.length);
  });

  test("a rule that fails while masking ends in error with a message naming the constraint", async () => {
    await shop.query((sql) => sql`ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0)`);
    const res = await h.request("POST", `/projects/${projectId}/branch_anonymized`, {
      masking_rules: [rule("orders", "total", { masking_value: "-1" })],
      start_anonymization: true,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const final = await settle(res.body.branch.id);
    assert.equal(final.state, "error");
    assert.match(final.status_message, /orders_total_positive/);
    assert.match(final.status_message, /public\.orders/);
    assert.ok(final.failed_at);
    // Credentials are given at once (Neon's behaviour); the endpoint is what stays closed.
    const creds = await connectAsBranch(res.body.branch.id);
    await assert.rejects(creds.sql`SELECT 1`, (e: { code?: string; message?: string }) =>
      e.code === "57P03" && /failed to anonymize \(error\): .*orders_total_positive/.test(e.message ?? ""));
    await creds.sql.end();
    const del = await h.request("DELETE", `/projects/${projectId}/branches/${res.body.branch.id}`);
    assert.equal(del.status, 200);
  });

  test("DELETE answers with the branch and an operation, then drops databases and role", async () => {
    const res = await h.request("DELETE", `/projects/${projectId}/branches/${branchId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.branch.id, branchId);
    assert.equal(res.body.operations[0].action, "delete_timeline");
    const gone = await h.request("GET", `/projects/${projectId}/branches/${branchId}`);
    assert.equal(gone.status, 404);
    const admin = connect(testServerUrl(), { max: 1 });
    try {
      await waitFor(
        async () => {
          const [r] = await admin`
            SELECT (SELECT count(*) FROM pg_database WHERE datname LIKE ${`${branchId.replaceAll("-", "_")}%`})::int AS dbs,
                   (SELECT count(*) FROM pg_roles WHERE starts_with(rolname, ${`${branchId.replaceAll("-", "_")}_`}))::int AS roles`;
          return r!;
        },
        (r) => r.dbs === 0 && r.roles === 0,
      );
    } finally {
      await admin.end();
    }
    assert.deepEqual(await fingerprint(shop.url, "users"), parentBefore.users, "the parent is still unchanged");
  });

  test("requests without a valid token get 401 with the error envelope", async () => {
    const none = await h.request("GET", `/projects/${projectId}`, undefined, null);
    assert.equal(none.status, 401);
    assert.equal(none.body.code, "UNAUTHORIZED");
    const wrong = await h.request("GET", `/projects/${projectId}`, undefined, "not-the-token");
    assert.equal(wrong.status, 401);
  });
});
