// The console in a real browser (Debian's Chromium, headless, via
// playwright-core) against the real app over HTTP: the Data Masking flow end
// to end, keyboard use, and axe-core on every page at desktop and phone sizes.
import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { launchBrowser, serveHarness, type Browser, type Served } from "./helpers/console.ts";
import { startHarness, waitFor, type Harness, type MintedKey } from "./helpers/harness.ts";
import { connect } from "./helpers/pg.ts";
import { createShop, type ShopDatabase } from "./helpers/shop.ts";

const axeSource: string = (createRequire(import.meta.url)("axe-core") as { source: string }).source;
const artifacts = fileURLToPath(new URL("./artifacts/", import.meta.url));

let h: Harness;
let shop: ShopDatabase;
let served: Served;
let browser: Browser;
let page: Page;
let projectId: string;
let branchId: string;
let dev: MintedKey;

const HOSTILE = "pg_catalog.pg_read_file('/etc/passwd')";
const users = (column: string) => `tr[data-table="users"][data-column="${column}"]`;
const rule = (column: string, masking_function: string) => ({
  database_name: shop.name, schema_name: "public", table_name: "users", column_name: column, masking_function,
});

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  shop = await createShop(2000, "cbshop");
  h = await startHarness();
  ({ projectId } = await h.registerProject([shop.name], "browser-shop"));
  dev = await h.mintKey({ role: "developer", projects: [projectId] });
  served = await serveHarness(h);
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
  if (branchId) {
    await waitFor(() => h.request("GET", `/projects/${projectId}/branches/${branchId}/anonymized_status`), (r) => ["anonymized", "error", "initialization_error"].includes(r.body.state));
  }
  await served?.close();
  await h?.close();
  await shop?.drop();
});

const go = (path: string) => page.goto(`${served.origin}${path}`);

/** Waits until a live message shows exactly `text` (the check is debounced and asynchronous). */
async function waitForMessage(row: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([sel, want]) => document.querySelector(`${sel} [data-message]`)?.textContent === want,
    [row, text] as const,
    { timeout: 15_000 },
  ).catch(async () => {
    const shown = await page.locator(`${row} [data-message]`).textContent();
    throw new Error(`the message of ${row} is "${shown}", not "${text}"`);
  });
}

async function apiMessage(rules: ReturnType<typeof rule>[]): Promise<string> {
  const res = await h.request("POST", `/projects/${projectId}/branches/${branchId}/masking_rules/validate`, { masking_rules: rules });
  assert.equal(res.status, 422, JSON.stringify(res.body));
  return res.body.message;
}

async function signIn(token: string): Promise<void> {
  await go("/console/");
  assert.match(page.url(), /\/console\/sign-in\?next=/);
  await page.getByLabel("API key or admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/console\/projects$/);
}

describe("Data Masking in the browser", () => {
  test("sign in, create a branch, pick functions, see the API's message, apply, watch it reach anonymized", async () => {
    await signIn(h.adminToken);
    await page.getByRole("link", { name: "browser-shop" }).click();
    await page.getByLabel("Name", { exact: true }).fill("pr-7");
    await page.getByRole("button", { name: "Create anonymized branch" }).click();
    await page.getByText("Branch created").waitFor();
    branchId = (await h.request("GET", `/projects/${projectId}/branches?search=pr-7`)).body.branches[0].id;

    await page.getByRole("link", { name: "pr-7", exact: true }).click();
    await page.getByRole("heading", { name: /Data Masking · pr-7/ }).waitFor();
    // The first run (with the project's rules), followed live by the page.
    await page.waitForSelector('[data-status-url][data-state="anonymized"]', { timeout: 90_000 });

    // A function for users.email: a non-unique one is refused with the API's message, a unique one passes.
    const email = page.locator(`${users("email")} select[data-picker]`);
    await email.selectOption({ label: "Fake email at a safe domain" });
    await waitForMessage(users("email"), await apiMessage([rule("email", "anon.dummy_safe_email()")]));
    await email.selectOption({ label: "Random unique email (uuid@example.com)" });
    await waitForMessage(users("email"), "Valid.");

    // A custom expression for users.phone: the field appears, a hostile one gets the API's message.
    const phoneExpr = page.locator(`${users("phone")} input[data-expr]`);
    assert.equal(await phoneExpr.isVisible(), false, "hidden until Custom is picked");
    await page.locator(`${users("phone")} select[data-picker]`).selectOption({ label: "Custom expression…" });
    await phoneExpr.fill(HOSTILE);
    await waitForMessage(users("phone"), await apiMessage([rule("phone", HOSTILE)]));
    assert.equal(await phoneExpr.getAttribute("aria-invalid"), "true");
    await phoneExpr.fill("anon.partial(phone, 2, 'XXX-XXXX', 2)");
    await waitForMessage(users("phone"), "Valid.");

    await page.getByRole("button", { name: "Apply masking rules" }).click();
    await page.getByText("Masking rules saved; anonymization started.").waitFor();
    await page.waitForSelector('[data-status-url][data-state="anonymized"]', { timeout: 90_000 });
    const bar = page.locator("#anon-progress");
    assert.equal(await bar.getAttribute("value"), await bar.getAttribute("max"), "the bar is full");
    await page.getByText(/last run by admin, started .* UTC, 2 columns masked/).waitFor();

    const status = (await h.request("GET", `/projects/${projectId}/branches/${branchId}/anonymized_status`)).body;
    assert.equal(status.state, "anonymized");
    assert.equal(status.last_run.masked_columns, 2);
    const rules = (await h.request("GET", `/projects/${projectId}/branches/${branchId}/masking_rules`)).body.masking_rules;
    assert.deepEqual(rules.map((r: { column_name: string; masking_function: string }) => [r.column_name, r.masking_function]), [
      ["email", "pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')"],
      ["phone", "anon.partial(phone, 2, 'XXX-XXXX', 2)"],
    ]);
    // The branch's own data, as its role sees it: masked.
    const role = (await h.request("GET", `/projects/${projectId}/branches/${branchId}/roles`)).body.roles[0].name;
    const { uri } = (await h.request("GET", `/projects/${projectId}/connection_uri?branch_id=${branchId}&database_name=${shop.name}&role_name=${role}`)).body;
    const sql = connect(uri, { max: 1 });
    try {
      const [row] = await sql`SELECT count(*) FILTER (WHERE email LIKE '%@shop.example')::int AS originals,
                                     count(*) FILTER (WHERE phone LIKE '+3%XXX-XXXX%')::int AS partial, count(*)::int AS total FROM users`;
      assert.deepEqual(row, { originals: 0, partial: 2000, total: 2000 });
    } finally {
      await sql.end();
    }

    const shot = `${artifacts}console-data-masking.png`;
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000, "a screenshot was saved");
  });

  test("keyboard: the skip link comes first, every picker is reachable with Tab and works with arrow keys", async () => {
    await go(`/console/projects/${projectId}/branches/${branchId}/masking`);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Skip to content");
    const pickers = await page.locator("select[data-picker]").evaluateAll((els) => els.map((e) => e.id));
    const reached = new Set<string>();
    for (let i = 0; i < 200 && reached.size < pickers.length + 1; i++) {
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return { id: el?.id ?? "", text: el?.textContent?.trim() ?? "", outline: el ? getComputedStyle(el).outlineStyle : "none" };
      });
      assert.notEqual(focused.outline, "none", `focus is visible on #${focused.id || focused.text}`);
      if (pickers.includes(focused.id) || focused.text === "Apply masking rules") reached.add(focused.id || "apply");
    }
    assert.deepEqual([...reached].sort(), [...pickers, "apply"].sort());

    const address = page.locator(`${users("address")} select[data-picker]`);
    await address.focus();
    await page.keyboard.press("ArrowDown");
    assert.notEqual(await address.inputValue(), "none");
    await waitForMessage(users("address"), "Valid.");
  });
});

describe("accessibility and small screens", () => {
  const viewports = [
    { name: "desktop", width: 1280, height: 900 },
    { name: "phone", width: 390, height: 844 },
  ];

  async function axeViolations(): Promise<string[]> {
    await page.evaluate(axeSource);
    const found = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
      return (await axe.run(document)).violations;
    });
    return found
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 5).join(", ")}`);
  }

  test("axe finds no serious or critical violation on any page, for admin and developer, at 1280 px and on a phone; nothing scrolls sideways", async () => {
    const pages = [
      "/console/projects", `/console/projects/${projectId}`, `/console/projects/${projectId}/masking`,
      `/console/projects/${projectId}/branches/${branchId}/masking`, `/console/projects/${projectId}/audit`,
    ];
    // The check itself works: an unlabelled field on a blank page is caught.
    await page.setContent("<!DOCTYPE html><html lang=en><head><title>t</title></head><body><main><input></main></body></html>");
    assert.match((await axeViolations()).join("\n"), /critical label/);

    for (const who of ["admin", "developer"] as const) {
      await go("/console/projects");
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByText("You are signed out.").waitFor();
      const problems: string[] = [];
      for (const viewport of viewports) {
        await page.setViewportSize(viewport);
        await go("/console/sign-in");
        problems.push(...(await axeViolations()).map((v) => `sign-in @${viewport.name}: ${v}`));
        if (viewport.name === "desktop") await signIn(who === "admin" ? h.adminToken : dev.key);
        for (const path of pages) {
          await go(path);
          problems.push(...(await axeViolations()).map((v) => `${who} ${path} @${viewport.name}: ${v}`));
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          if (overflow > 1) problems.push(`${who} ${path} @${viewport.name}: ${overflow}px wider than the screen`);
        }
        if (who === "developer" && viewport.name === "phone") {
          await go(`/console/projects/${projectId}/branches/${branchId}/masking`);
          await page.screenshot({ path: `${artifacts}console-data-masking-phone.png`, fullPage: true });
        }
      }
      assert.deepEqual(problems, []);
    }
  });
});
