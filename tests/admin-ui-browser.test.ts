/**
 * The admin UI in a real browser (Debian's chromium via playwright-core) against a TestStack:
 * an unauthenticated browser is sent to the login; the login sets an HttpOnly, SameSite=Strict
 * session cookie; an invalid sale shows the API's own message on each bad field and is not
 * saved; a valid sale is created, published (confirmed by name) and on the shopper API; during
 * a burst of purchases the live page's numbers move and end equal to Redis and Postgres; a
 * started sale's fixed fields are read-only with the reason. Screenshots go to test-artifacts/.
 */
import type { Page } from "playwright-core";
import type { Redis } from "@flash-sale/node-common";
import { Gateway, LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TEST_ADMIN_TOKEN, type ControlPlane } from "./support/control-plane";
import type { TestDatabase } from "./support/test-database";
import { TestStack } from "./support/test-stack";
import { countSale, waitForRows } from "./support/counts";
import { purchase, request } from "./support/http";
import { signToken } from "./support/tokens";
import { waitFor } from "./support/stream-fixtures";
import { Browser, screenshots } from "./support/browser";

// A browser waits for real time (the live page's refresh, the worker's drain).
jest.setTimeout(60_000);

let stack: TestStack;
let redis: Redis;
let db: TestDatabase;
let controlPlane: ControlPlane;
let gateway: Gateway;
let browser: Browser;
let page: Page;

const SALE_ID = "ui-sneakers";
const SALE_NAME = "UI sneakers";
const STOCK = 40;
const SHOPPERS = 70;

beforeAll(async () => {
  stack = await TestStack.start({ name: "admin-ui", knobs: LOAD_TEST_KNOBS, worker: {} });
  ({ redis, db, controlPlane, gateway } = stack);
  browser = await Browser.launch();
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

function text(selector: string): Promise<string> {
  return page.locator(selector).innerText();
}

test("an unauthenticated browser is sent to the login, and the API refuses it", async () => {
  for (const path of ["/admin", `/admin/sales/${SALE_ID}`, "/admin/sales/new"]) {
    await page.goto(`${controlPlane.url}${path}`);
    expect(new URL(page.url()).pathname).toBe("/admin/login");
  }
  const api = await page.request.get(`${controlPlane.url}/admin/api/sales`);
  expect(api.status()).toBe(401);
  await screenshots(page, "admin-login");
});

test("a wrong token is refused; the admin token logs in with an HttpOnly, SameSite=Strict cookie", async () => {
  await page.fill("#token", "not-the-admin-token");
  await page.click("button[type=submit]");
  expect(await text("[role=alert]")).toBe("That is not the admin token.");
  expect(await browser.context.cookies()).toEqual([]);

  await page.fill("#token", TEST_ADMIN_TOKEN);
  await page.click("button[type=submit]");
  await page.waitForURL(`${controlPlane.url}/admin`);
  await page.locator("h1", { hasText: "Sales" }).waitFor();
  const [cookie] = await browser.context.cookies();
  expect(cookie).toMatchObject({ name: "fs_admin_session", httpOnly: true, sameSite: "Strict", path: "/admin" });
});

test("a state-changing API call with the session cookie needs the page's CSRF token", async () => {
  const body = { data: { name: "csrf" } };
  expect((await page.request.post(`${controlPlane.url}/admin/api/sales`, body)).status()).toBe(401);
  const csrfToken = await page.locator('meta[name="csrf-token"]').getAttribute("content");
  const withToken = await page.request.post(`${controlPlane.url}/admin/api/sales`, { ...body, headers: { "x-csrf-token": csrfToken! } });
  // Past the session check: the (incomplete) sale itself is refused.
  expect(withToken.status()).toBe(400);
});

test("an invalid sale shows the API's message on each bad field and is not saved", async () => {
  await page.goto(`${controlPlane.url}/admin/sales/new`);
  const bad = { id: "bad-sale", price: "-5", currency: "usd", stock: "0", startsAt: "tomorrow", endsAt: "2030-01-01T12:00:00Z" };
  for (const [field, value] of Object.entries(bad)) await page.fill(`#field-${field}`, value);
  await page.click("button[type=submit]");
  await page.locator("#form-error", { hasText: "Not saved" }).waitFor();

  // The API's answer to the same input: the page must show exactly these messages.
  const api = await controlPlane.admin("POST", "/admin/api/sales", { ...bad, price: -5, stock: 0 });
  expect(api.status).toBe(400);
  const fields = api.body.fields as { path: string; message: string }[];
  expect(fields.map((f) => f.path).sort()).toEqual(["currency", "deduction", "name", "price", "startsAt", "stock"]);
  for (const { path, message } of fields) expect(await text(`#error-${path.replace(/\./g, "-")}`)).toBe(message);
  expect(await text("#error-endsAt")).toBe("");
  await screenshots(page, "admin-invalid-sale");

  expect((await controlPlane.admin("GET", "/admin/api/sales/bad-sale")).status).toBe(404);
  expect((await db.pool.query("SELECT count(*)::int AS n FROM sales")).rows[0].n).toBe(0);
});

test("a valid sale is created, published after a confirmation naming it, and on the shopper API", async () => {
  await page.goto(`${controlPlane.url}/admin/sales/new`);
  const now = Date.now();
  const good: Record<string, string> = {
    id: SALE_ID,
    name: SALE_NAME,
    price: "1999",
    stock: String(STOCK),
    startsAt: new Date(now - 1000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    "limits-userRatePerSecond": "100",
    "limits-userBurst": "100",
    "limits-admitPerSecond": "100000",
  };
  for (const [field, value] of Object.entries(good)) await page.fill(`#field-${field}`, value);
  await page.selectOption("#field-deduction", "order");
  await page.click("button[type=submit]");
  await page.waitForURL(`${controlPlane.url}/admin/sales/${SALE_ID}`);

  const confirmations: string[] = [];
  page.once("dialog", (dialog) => {
    confirmations.push(dialog.message());
    void dialog.accept();
  });
  await page.click("#action-publish");
  // Creating published it once (audited); the click is the second publish.
  // A locator, not waitForFunction: its polling evaluates a string, which the page's CSP refuses.
  await page.locator("#audit td").filter({ hasText: /^publish$/ }).nth(1).waitFor();
  expect(confirmations).toEqual([`Publish the sale "${SALE_NAME}" (${SALE_ID})?`]);

  await waitForSale(gateway, SALE_ID);
  const shopperView = await request(`${gateway.url}/api/sales/${SALE_ID}`);
  expect(shopperView.status).toBe(200);
  expect(shopperView.json()).toMatchObject({ id: SALE_ID, name: SALE_NAME, price: 1999 });
});

test("during a burst the live page's numbers move and end equal to Redis and Postgres", async () => {
  await page.locator("#units-sold", { hasText: "0" }).waitFor();
  const seen = new Set<string>();
  const watching = (async () => {
    for (let i = 0; i < 40 && !seen.has(String(STOCK)); i++) {
      seen.add(await text("#units-sold"));
      await page.waitForTimeout(250);
    }
  })();
  // Waves over a few seconds, so that the page sees the count between 0 and the stock.
  for (let wave = 0; wave < 5; wave++) {
    const shoppers = Array.from({ length: SHOPPERS / 5 }, (_, i) => `ui-shopper-${wave}-${i}`);
    await Promise.all(shoppers.map((s) => purchase(gateway.url, SALE_ID, signToken(s))));
    await new Promise((resolve) => setTimeout(resolve, 700));
  }
  await watching;
  expect([...seen].some((v) => Number(v) > 0 && Number(v) < STOCK)).toBe(true);

  await waitForRows(db.pool, SALE_ID, STOCK);
  const count = await countSale(redis, db.pool, SALE_ID);
  expect(count).toMatchObject({ unitsLeft: 0, unitsSold: STOCK, pgRows: STOCK });
  await page.locator("#orders-persisted", { hasText: String(count.pgRows) }).waitFor({ timeout: 5000 });
  await page.locator("#queue-lag", { hasText: "0 orders" }).waitFor({ timeout: 5000 });
  expect(await text("#units-sold")).toBe(String(count.unitsSold));
  expect(await text("#units-left")).toBe(String(count.unitsLeft));
  // Requests by outcome from the gateway's metrics: some accepted, the rest refused as sold out.
  await page.locator("[data-outcome]").first().waitFor();
  expect(await page.locator("[data-outcome]").count()).toBeGreaterThanOrEqual(2);
  expect(await page.locator("#chart polyline").count()).toBe(2);
  await screenshots(page, "admin-live-sale");
});

test("the list shows the sale's counts; a started sale's fixed fields are read-only with the reason", async () => {
  await page.goto(`${controlPlane.url}/admin`);
  const row = page.locator(`tr[data-sale="${SALE_ID}"]`);
  await row.waitFor();
  expect(await row.locator("td").allInnerTexts()).toEqual([
    `${SALE_NAME} ${SALE_ID}`,
    "active",
    expect.any(String),
    expect.any(String),
    String(STOCK),
    "0",
    "0",
    String(STOCK),
    String(STOCK),
  ]);
  await screenshots(page, "admin-sales-list");

  await page.goto(`${controlPlane.url}/admin/sales/${SALE_ID}/edit`);
  expect(await page.locator("#field-startsAt").isDisabled()).toBe(true);
  expect(await page.locator("#field-deduction").isDisabled()).toBe(true);
  expect(await text("#fixed-field-startsAt")).toMatch(/^Read-only: cannot move: the sale started at /);
  expect(await text("#fixed-field-deduction")).toBe('Read-only: cannot change once the sale has started (it is "order")');
  expect(await page.locator("#field-name").isDisabled()).toBe(false);
  await screenshots(page, "admin-edit-started-sale");
});

test("the pages asked nothing of any other origin", () => {
  const foreign = browser.requested.filter((url) => !url.startsWith(`${controlPlane.url}/`));
  expect(foreign).toEqual([]);
});
