// How a parent is copied: with ANONBRANCH_CLONE_STRATEGY=auto (the default), a
// parent up to ANONBRANCH_CLONE_WAL_LOG_MAX_MB with WAL_LOG (no checkpoint), a
// larger one with FILE_COPY (its copy stays out of WAL). Either way the branch
// holds every row of the parent, masked.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { chooseCloneStrategy } from "../src/dataplane/clone.ts";
import { physicalDatabaseName } from "../src/dataplane/names.ts";
import { startHarness, waitFor, type Harness } from "./helpers/harness.ts";
import { connect, testServerUrl } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

test("auto decides by the parent's size, at the limit included; a forced strategy is used whatever the size", () => {
  const mb = 1024 * 1024;
  assert.equal(chooseCloneStrategy("auto", 8 * mb, 64), "WAL_LOG");
  assert.equal(chooseCloneStrategy("auto", 64 * mb, 64), "WAL_LOG");
  assert.equal(chooseCloneStrategy("auto", 64 * mb + 1, 64), "FILE_COPY");
  assert.equal(chooseCloneStrategy("auto", 1, 0), "FILE_COPY");
  assert.equal(chooseCloneStrategy("FILE_COPY", 1, 64), "FILE_COPY");
  assert.equal(chooseCloneStrategy("WAL_LOG", 10_000 * mb, 64), "WAL_LOG");
});

describe("a branch cloned either way", () => {
  let shop: ShopDatabase;
  before(async () => {
    shop = await createShop(500, "clonestrat");
  });
  after(async () => {
    await shop.drop();
  });

  // A shop of 500 users is a few MB: under a 64 MB limit it is small, under a 0 MB limit it is not.
  for (const [limitMb, expected] of [
    [64, "WAL_LOG"],
    [0, "FILE_COPY"],
  ] as const) {
    test(`ANONBRANCH_CLONE_WAL_LOG_MAX_MB=${limitMb}: cloned with ${expected}, every row there and masked`, async () => {
      const h: Harness = await startHarness({ endpoints: false, config: { ANONBRANCH_CLONE_WAL_LOG_MAX_MB: limitMb } });
      try {
        const { projectId } = await h.registerProject([shop.name], `clone-${expected}`);
        const made = await h.request("POST", `/projects/${projectId}/branch_anonymized`, { start_anonymization: true });
        assert.equal(made.status, 201, JSON.stringify(made.body));
        const id = made.body.branch.id as string;
        const settled = await waitFor(
          async () => (await h.request("GET", `/projects/${projectId}/branches/${id}/anonymized_status`)).body,
          (s) => ["anonymized", "error", "initialization_error"].includes(s.state),
          120_000,
        );
        assert.equal(settled.state, "anonymized", settled.status_message);

        const cloned = h.logs.filter((l) => l.includes("database cloned") && l.includes(id));
        assert.equal(cloned.length, 1, cloned.join("\n"));
        assert.match(cloned[0]!, new RegExp(`"strategy":"${expected}"`));

        const sql = connect(testServerUrl(physicalDatabaseName(id, shop.name)), { max: 1 });
        try {
          const [users] = await sql`SELECT count(*)::int AS n, count(*) FILTER (WHERE email LIKE '%@shop.example')::int AS original FROM users`;
          const [orders] = await sql`SELECT count(*)::int AS n FROM orders`;
          assert.deepEqual({ users: users!.n, orders: orders!.n, original: users!.original }, { users: 500, orders: 1000, original: 0 });
        } finally {
          await sql.end();
        }
      } finally {
        await h.close();
      }
    });
  }
});
