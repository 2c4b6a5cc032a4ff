// The API's fast path: POST branch_anonymized must answer well under a second
// (Neon's GitHub Action gives up after 10 s) although it validates every rule
// with the real parser against the parent's live schema. Measured against a
// plain authenticated read, in process, with no worker running.
import { startHarness } from "../test/helpers/harness.ts";
import { testServerUrl } from "../test/helpers/pg.ts";
import { createShop } from "../test/helpers/shop.ts";
import { compare } from "./harness.ts";

const shop = await createShop(1000, "bshop");
const h = await startHarness({ worker: false });
const project = await h.request("POST", "/projects", {
  project: { name: "bench", source: { connection_uri: testServerUrl("postgres"), databases: [shop.name] } },
});
const projectId = project.body.project.id as string;
const rule = (column: string, fn: Record<string, string>) => ({
  database_name: shop.name, schema_name: "public", table_name: "users", column_name: column, ...fn,
});
const rules = [
  rule("email", { masking_function: "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')" }),
  rule("phone", { masking_function: "anon.partial(phone, 2, 'XXX-XXXX', 2)" }),
  rule("address", { masking_value: "'CONFIDENTIAL'" }),
];
const first = await h.request("POST", `/projects/${projectId}/branch_anonymized`, { masking_rules: rules });
const branchId = first.body.branch.id as string;
// No worker runs here: mark the branch's create operation done, or PATCH would
// (rightly) answer 423 without validating anything.
await h.services.db.$client`UPDATE operations SET status = 'finished' WHERE branch_id = ${branchId}`;
const check = await h.request("PATCH", `/projects/${projectId}/branches/${branchId}/masking_rules`, { masking_rules: rules });
if (check.status !== 200) throw new Error(`PATCH answered ${check.status}: ${JSON.stringify(check.body)}`);

const batch = (fn: () => Promise<unknown>, n = 20) => async () => {
  for (let i = 0; i < n; i++) await fn();
};
await compare(
  "20 requests through the app (metadata + data-plane introspection on the local server)",
  { name: "GET …/anonymized_status", run: batch(() => h.request("GET", `/projects/${projectId}/branches/${branchId}/anonymized_status`)) },
  [
    { name: "PATCH …/masking_rules (3 rules, validated vs parent)", run: batch(() => h.request("PATCH", `/projects/${projectId}/branches/${branchId}/masking_rules`, { masking_rules: rules })) },
    { name: "POST branch_anonymized (3 rules, no run)", run: batch(() => h.request("POST", `/projects/${projectId}/branch_anonymized`, { masking_rules: rules })) },
  ],
  3,
);
await h.close();
await shop.drop();
