// What a console page costs next to the API call it stands on. The Data
// Masking page reads the schema, the scan and the branch's labels from the
// data plane on every load; the projects page only the metadata database.
// All requests go over real HTTP to the same in-process app.
import { waitFor, startHarness } from "../test/helpers/harness.ts";
import { ConsoleClient, serveHarness } from "../test/helpers/console.ts";
import { createShop } from "../test/helpers/shop.ts";
import { compare } from "./harness.ts";

const shop = await createShop(1000, "cbench");
const h = await startHarness();
const { projectId } = await h.registerProject([shop.name], "bench");
const made = await h.request("POST", `/projects/${projectId}/branch_anonymized`, { start_anonymization: true });
const branchId = made.body.branch.id as string;
await waitFor(() => h.request("GET", `/projects/${projectId}/branches/${branchId}/anonymized_status`), (r) => r.body.state === "anonymized");
const served = await serveHarness(h);
const browser = new ConsoleClient(served.origin);
await browser.signIn(h.adminToken);

const batch = (fn: () => Promise<unknown>, n = 20) => async () => {
  for (let i = 0; i < n; i++) await fn();
};
const api = (path: string) => () =>
  fetch(`${served.origin}/api/v2${path}`, { headers: { authorization: `Bearer ${h.adminToken}` } }).then((r) => r.text());
const page = (path: string) => async () => {
  const res = await browser.get(path);
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
};
const branch = `/projects/${projectId}/branches/${branchId}`;

await compare(
  "20 requests over HTTP (admin)",
  { name: "API GET …/masking_rules", run: batch(api(`${branch}/masking_rules`)) },
  [
    { name: "API GET /projects", run: batch(api("/projects")) },
    { name: "console /projects", run: batch(page("/console/projects")) },
    { name: "console project page (branches + statuses)", run: batch(page(`/console/projects/${projectId}`)) },
    { name: "console branch Data Masking page", run: batch(page(`/console${branch}/masking`)) },
    { name: "console project masking rules page", run: batch(page(`/console/projects/${projectId}/masking`)) },
  ],
  3,
);
await served.close();
await h.close();
await shop.drop();
