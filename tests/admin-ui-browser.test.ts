/**
 * The admin UI in a real browser (Debian's chromium via playwright-core) against a TestStack:
 * an unauthenticated browser is sent to the login; the login sets an HttpOnly, SameSite=Strict
 * session cookie; an invalid sale shows the API's own message on each bad field, tied to it,
 * with the focus on the first, and is not saved; a valid sale is created, published (confirmed
 * by name) and on the shopper API; during a burst of purchases the live page's numbers and
 * chart move and end equal to Redis and Postgres; the list shows the sale sold out; a started
 * sale's fixed fields are read-only with the reason; a sale's waiting room is set, edited (a
 * bad value named on its field) and turned off in the form, as the API then stores it and the
 * gateway shows it; after a counted sale of 300 units bought through the gateway the orders
 * page and its CSV hold exactly Postgres' orders; no page logs a console error. Screenshots go
 * to test-artifacts/.
 */
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TEST_ADMIN_TOKEN } from "./support/control-plane";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { countSale, waitForRows } from "./support/counts";
import { purchase, request } from "./support/http";
import { signToken } from "./support/tokens";
import { waitFor } from "./support/stream-fixtures";
import { parseCsv } from "./support/csv";
import { answerDialogs, Browser, fitsPhone, focusedId, screenshots } from "./support/browser";

// A browser waits for real time (the live page's refresh, the worker's drain).
jest.setTimeout(60_000);

let browser: Browser;
let page: Page;

const SALE_ID = "ui-sneakers";
const SALE_NAME = "UI sneakers";
const STOCK = 40;
const SHOPPERS = 70;

const stack = useStack(new TestStack({ name: "admin-ui", knobs: LOAD_TEST_KNOBS, worker: {} }), async () => {
  browser = await Browser.launch({ closedWith: stack });
  page = await browser.newPage();
});

function text(selector: string): Promise<string> {
  return page.locator(selector).innerText();
}

test("an unauthenticated browser is sent to the login, and the API refuses it", async () => {
  for (const path of ["/admin", `/admin/sales/${SALE_ID}`, "/admin/sales/new"]) {
    await page.goto(`${stack.controlPlane.url}${path}`);
    expect(new URL(page.url()).pathname).toBe("/admin/login");
  }
  const api = await page.request.get(`${stack.controlPlane.url}/admin/api/sales`);
  expect(api.status()).toBe(401);
  await screenshots(page, "admin-login");
});

test("a wrong token is refused; the admin token logs in with an HttpOnly, SameSite=Strict cookie", async () => {
  await page.fill("#token", "not-the-admin-token");
  await page.click("button[type=submit]");
  expect(await text("[role=alert]")).toBe("That token is not valid.");
  expect(await browser.context.cookies()).toEqual([]);

  await page.fill("#token", TEST_ADMIN_TOKEN);
  await page.click("button[type=submit]");
  await page.waitForURL(`${stack.controlPlane.url}/admin`);
  await page.locator("h1", { hasText: "Sales" }).waitFor();
  const cookies = await browser.context.cookies();
  expect(cookies.find((c) => c.name === "fs_admin_session")).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/admin" });
  // The sign-in throttle's device cookie: this browser is not held back by others' failures.
  expect(cookies.find((c) => c.name === "fs_admin_device")).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/admin" });
});

test("a state-changing API call with the session cookie needs the page's CSRF token", async () => {
  const body = { data: { name: "csrf" } };
  expect((await page.request.post(`${stack.controlPlane.url}/admin/api/sales`, body)).status()).toBe(401);
  const csrfToken = await page.locator('meta[name="csrf-token"]').getAttribute("content");
  const withToken = await page.request.post(`${stack.controlPlane.url}/admin/api/sales`, { ...body, headers: { "x-csrf-token": csrfToken! } });
  // Past the session check: the (incomplete) sale itself is refused.
  expect(withToken.status()).toBe(400);
});

test("an invalid sale shows the API's message on each bad field and is not saved", async () => {
  await page.goto(`${stack.controlPlane.url}/admin/sales/new`);
  // The start left empty: a datetime-local input takes no text that is not a time.
  const bad = { id: "bad-sale", price: "-5", currency: "usd", stock: "0", endsAt: "2030-01-01T12:00:00" };
  for (const [field, value] of Object.entries(bad)) await page.fill(`#field-${field}`, value);
  await page.click("button[type=submit]");
  await page.locator("#form-error", { hasText: "Not saved" }).waitFor();

  // The API's answer to the same input (the browser's zone is UTC): the page must show exactly these messages.
  // The form sends the deduction it preselects for a new sale.
  const api = await stack.controlPlane.admin("POST", "/admin/api/sales", { ...bad, price: -5, stock: 0, endsAt: "2030-01-01T12:00:00Z", deduction: "order" });
  expect(api.status).toBe(400);
  const fields = api.body.fields as { path: string; message: string }[];
  expect(fields.map((f) => f.path).sort()).toEqual(["currency", "name", "price", "startsAt", "stock"]);
  for (const { path, message } of fields) {
    const id = path.replace(/\./g, "-");
    expect(await text(`#error-${id}`)).toBe(message);
    expect(await page.getAttribute(`#field-${id}`, "aria-invalid")).toBe("true");
    expect((await page.getAttribute(`#field-${id}`, "aria-describedby"))?.split(" ")).toContain(`error-${id}`);
  }
  expect(await text("#error-endsAt")).toBe("");
  expect(await page.getAttribute("#field-endsAt", "aria-invalid")).toBeNull();
  // The focus is on the first bad field in the form's order.
  expect(await focusedId(page)).toBe("field-name");
  await screenshots(page, "admin-invalid-sale");

  expect((await stack.controlPlane.admin("GET", "/admin/api/sales/bad-sale")).status).toBe(404);
  expect((await stack.db.pool.query("SELECT count(*)::int AS n FROM sales")).rows[0].n).toBe(0);
});

test("a valid sale is created and published, on the shopper API, then paused and resumed after confirmations naming it", async () => {
  await page.goto(`${stack.controlPlane.url}/admin/sales/new`);
  const now = Date.now();
  const good: Record<string, string> = {
    id: SALE_ID,
    name: SALE_NAME,
    price: "1999",
    stock: String(STOCK),
    // datetime-local values, in the browser's zone (UTC here).
    startsAt: new Date(now - 1000).toISOString().slice(0, 19),
    endsAt: new Date(now + 3_600_000).toISOString().slice(0, 19),
    "limits-userRatePerSecond": "100",
    "limits-userBurst": "100",
    "limits-admitPerSecond": "100000",
  };
  for (const [field, value] of Object.entries(good)) await page.fill(`#field-${field}`, value);
  // A new sale's deduction is preselected (order): created as it stands, without a choice made.
  expect(await page.inputValue("#field-deduction")).toBe("order");
  await page.click("button[type=submit]");
  await page.waitForURL(`${stack.controlPlane.url}/admin/sales/${SALE_ID}`);

  // Creating published it (audited); a published, started sale offers no Publish and no Delete.
  await page.locator("#audit td", { hasText: /^publish$/ }).waitFor();
  await page.locator("#sale-state", { hasText: "active" }).waitFor();
  expect(await page.locator("#actions > *").allInnerTexts()).toEqual(["Edit", "Pause", "End", "Orders", "Report"]);
  await waitForSale(stack.gateway, SALE_ID);
  const shopperView = await request(`${stack.gateway.url}/api/sales/${SALE_ID}`);
  expect(shopperView.status).toBe(200);
  expect(shopperView.json()).toMatchObject({ id: SALE_ID, name: SALE_NAME, price: 1999, status: "active" });

  // Pause and resume, each after a confirmation naming the sale; the page follows without a reload.
  const confirmations = answerDialogs(page, "accept");
  await page.click("#action-pause");
  await page.locator("#sale-state", { hasText: "paused" }).waitFor();
  expect(await page.locator("#actions > *").allInnerTexts()).toEqual(["Edit", "Resume", "End", "Orders", "Report"]);
  await waitFor("the gateways to pause the sale", async () => (await request(`${stack.gateway.url}/api/sales/${SALE_ID}`)).json().status === "paused");
  await page.click("#action-resume");
  await page.locator("#sale-state", { hasText: "active" }).waitFor();
  await waitFor("the gateways to resume the sale", async () => (await request(`${stack.gateway.url}/api/sales/${SALE_ID}`)).json().status === "active");
  page.removeAllListeners("dialog");
  expect(confirmations).toEqual([`Pause the sale "${SALE_NAME}" (${SALE_ID})?`, `Resume the sale "${SALE_NAME}" (${SALE_ID})?`]);
  await page.locator("#audit li[data-field=paused]").nth(1).waitFor();
  // Newest first, each entry as the field it changed.
  expect((await page.locator("#audit li[data-field=paused]").allInnerTexts()).slice(0, 2)).toEqual(["paused: true → false", "paused: false → true"]);
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
    await Promise.all(shoppers.map((s) => purchase(stack.gateway.url, SALE_ID, signToken(s))));
    await new Promise((resolve) => setTimeout(resolve, 700));
  }
  await watching;
  expect([...seen].some((v) => Number(v) > 0 && Number(v) < STOCK)).toBe(true);

  await waitForRows(stack.db.pool, SALE_ID, STOCK);
  const count = await countSale(stack.redis, stack.db.pool, SALE_ID);
  expect(count).toMatchObject({ unitsLeft: 0, unitsSold: STOCK, pgRows: STOCK });
  await page.locator("#orders-persisted", { hasText: String(count.pgRows) }).waitFor({ timeout: 5000 });
  await page.locator("#queue-lag", { hasText: "0 orders" }).waitFor({ timeout: 5000 });
  expect(await text("#units-sold")).toBe(String(count.unitsSold));
  expect(await text("#units-left")).toBe(String(count.unitsLeft));
  // Requests by outcome from the gateway's metrics: some accepted, the rest refused as sold out.
  await page.locator("[data-outcome]").first().waitFor();
  expect(await page.locator("[data-outcome]").count()).toBeGreaterThanOrEqual(2);
  // The chart (uPlot): a time axis and the two series on their own scales, values on hover.
  expect(await page.locator("#chart canvas").count()).toBeGreaterThan(0);
  expect(await page.locator("#chart .u-legend .u-label").allInnerTexts()).toEqual(["Time (UTC)", "Units sold", "Requests/s"]);
  const box = (await page.locator("#chart .u-over").boundingBox())!;
  await page.hover("#chart .u-over", { position: { x: box.width - 2, y: box.height / 2 } });
  await page.locator("#chart .u-legend .u-value", { hasText: /^\d{2}:/ }).waitFor({ timeout: 3000 });
  const values = await page.locator("#chart .u-legend .u-value").allInnerTexts();
  expect(values[0]).toMatch(/^\d{2}:\d{2}:\d{2}$/);
  expect(values[1]).toBe(`${STOCK} units`);
  expect(values[2]).toMatch(/^\d+\.\d req\/s$/);
  await screenshots(page, "admin-live-sale");
  expect(await fitsPhone(page, 300)).toBe(true); // the chart follows its box's new width
});

test("the list shows the sale's counts and the sale sold out; a started sale's fixed fields are read-only with the reason", async () => {
  await page.goto(`${stack.controlPlane.url}/admin`);
  const row = page.locator(`tr[data-sale="${SALE_ID}"]`);
  await page.locator(`tr[data-sale="${SALE_ID}"] td.number`).nth(2).waitFor();
  expect(await row.locator("td").allInnerTexts()).toEqual([
    `${SALE_NAME} ${SALE_ID} orders`,
    "sold out",
    // The browser's zone is UTC: each time once, not "GMT" beside "UTC".
    expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/),
    expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/),
    "$19.99",
    String(STOCK),
    "0",
    "0",
    String(STOCK),
    String(STOCK),
  ]);
  await screenshots(page, "admin-sales-list");

  await page.goto(`${stack.controlPlane.url}/admin/sales/${SALE_ID}/edit`);
  expect(await page.locator("#field-startsAt").isDisabled()).toBe(true);
  expect(await page.locator("#field-deduction").isDisabled()).toBe(true);
  expect(await text("#fixed-field-startsAt")).toMatch(/^Read-only: cannot move: the sale started at /);
  expect(await text("#fixed-field-deduction")).toBe('Read-only: cannot change once the sale has started (it is "order")');
  expect(await page.locator("#field-name").isDisabled()).toBe(false);
  await screenshots(page, "admin-edit-started-sale");
});

test("a sale with a waiting room is created, edited (a bad value refused on its field) and its waiting room turned off, as stored and published", async () => {
  const saleId = "ui-queue";
  const stock = 25;
  const startsAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2 * 3_600_000);
  const room = (f: string) => `#field-waitingRoom-${f}`;
  const stored = async () => (await stack.controlPlane.admin("GET", `/admin/api/sales/${saleId}`)).body.waitingRoom;
  const shopperRoom = async () => (await request(`${stack.gateway.url}/api/sales/${saleId}`)).json().waitingRoom;

  await page.goto(`${stack.controlPlane.url}/admin/sales/new`);
  const sale: Record<string, string> = {
    id: saleId,
    name: "UI queue",
    price: "500",
    stock: String(stock),
    startsAt: startsAt.toISOString().slice(0, 19),
    endsAt: new Date(startsAt.getTime() + 3_600_000).toISOString().slice(0, 19),
  };
  for (const [field, value] of Object.entries(sale)) await page.fill(`#field-${field}`, value);
  await page.selectOption("#field-deduction", "order");
  // Off at first: its fields take no input.
  expect(await page.isChecked("#field-waitingRoom")).toBe(false);
  expect(await page.locator(room("admitPerSecond")).isDisabled()).toBe(true);
  await page.check("#field-waitingRoom");
  const typed = { opensBeforeSeconds: "600", admitPerSecond: "0", passSeconds: "120" };
  for (const [field, value] of Object.entries(typed)) await page.fill(room(field), value);
  await page.click("button[type=submit]");
  await page.locator("#form-error", { hasText: "Not saved" }).waitFor();

  // The page shows the API's own message for the same input, on that field alone.
  const api = await stack.controlPlane.admin("POST", "/admin/api/sales", {
    ...sale, price: 500, stock, startsAt: startsAt.toISOString(), endsAt: `${sale.endsAt}Z`, deduction: "order",
    waitingRoom: { opensBeforeSeconds: 600, admitPerSecond: 0, passSeconds: 120 },
  });
  expect(api.status).toBe(400);
  expect(api.body.fields).toEqual([{ path: "waitingRoom.admitPerSecond", message: expect.stringMatching(/^must be a number of attempts per second/) }]);
  expect(await text("#error-waitingRoom-admitPerSecond")).toBe(api.body.fields[0].message);
  expect(await page.getAttribute(room("admitPerSecond"), "aria-invalid")).toBe("true");
  expect((await page.getAttribute(room("admitPerSecond"), "aria-describedby"))?.split(" ")).toContain("error-waitingRoom-admitPerSecond");
  expect(await page.getAttribute(room("passSeconds"), "aria-invalid")).toBeNull();
  expect(await focusedId(page)).toBe("field-waitingRoom-admitPerSecond");
  expect((await stack.controlPlane.admin("GET", `/admin/api/sales/${saleId}`)).status).toBe(404);

  await page.fill(room("admitPerSecond"), "50");
  await page.click("button[type=submit]");
  await page.waitForURL(`${stack.controlPlane.url}/admin/sales/${saleId}`);
  expect(await stored()).toEqual({ opensBeforeSeconds: 600, admitPerSecond: 50, passSeconds: 120 });
  await waitForSale(stack.gateway, saleId);
  expect(await shopperRoom()).toEqual({ opensAt: new Date(startsAt.getTime() - 600_000).toISOString() });

  // The edit shows the stored room; a bad pass is refused on its field; the fixed one sends that field alone.
  await page.goto(`${stack.controlPlane.url}/admin/sales/${saleId}/edit`);
  expect(await page.isChecked("#field-waitingRoom")).toBe(true);
  expect(await page.inputValue(room("passSeconds"))).toBe("120");
  await page.fill(room("passSeconds"), "99999");
  await page.click("button[type=submit]");
  await page.locator("#error-waitingRoom-passSeconds", { hasText: "must be at most 3600 seconds" }).waitFor();
  expect(await page.getAttribute(room("passSeconds"), "aria-invalid")).toBe("true");
  await page.fill(room("passSeconds"), "300");
  const [patch] = await Promise.all([page.waitForRequest((r) => r.method() === "PATCH"), page.click("button[type=submit]")]);
  expect(patch.postDataJSON()).toEqual({ waitingRoom: { passSeconds: 300 } });
  await page.waitForURL(`${stack.controlPlane.url}/admin/sales/${saleId}`);
  expect(await stored()).toEqual({ opensBeforeSeconds: 600, admitPerSecond: 50, passSeconds: 300 });
  await screenshots(page, "admin-sale-waiting-room");

  // Turned off: the sale has none, and the gateways sell without a queue again.
  await page.goto(`${stack.controlPlane.url}/admin/sales/${saleId}/edit`);
  await page.uncheck("#field-waitingRoom");
  expect(await page.locator(room("passSeconds")).isDisabled()).toBe(true);
  const [off] = await Promise.all([page.waitForRequest((r) => r.method() === "PATCH"), page.click("button[type=submit]")]);
  expect(off.postDataJSON()).toEqual({ waitingRoom: null });
  await page.waitForURL(`${stack.controlPlane.url}/admin/sales/${saleId}`);
  expect(await stored()).toBeUndefined();
  await waitFor("the gateways to drop the waiting room", async () => (await shopperRoom()) === undefined);

  expect(await countSale(stack.redis, stack.db.pool, saleId)).toMatchObject({ unitsLeft: stock, unitsSold: 0, redisOrders: 0, buyers: 0, pgRows: 0, pgDistinctUsers: 0 });
});

test("after a counted sale of 300 units bought through the gateway, the orders page and its CSV hold exactly Postgres' orders", async () => {
  const saleId = "ui-counted";
  const units = 300;
  await stack.controlPlane.createSale({ id: saleId, name: "UI counted", stock: units, limits: { userRatePerSecond: 100, userBurst: 100, admitPerSecond: 100000 } });
  await waitForSale(stack.gateway, saleId);
  const answers = await Promise.all(Array.from({ length: 400 }, (_, i) => purchase(stack.gateway.url, saleId, signToken(`counted-${i}`))));
  expect(answers.filter((a) => a.status === 202)).toHaveLength(units);
  await waitForRows(stack.db.pool, saleId, units);
  expect(await countSale(stack.redis, stack.db.pool, saleId)).toMatchObject({ unitsLeft: 0, unitsSold: units, pgRows: units });
  const pg = (
    await stack.db.pool.query("SELECT order_id, user_id, quantity, price, currency, status, accepted_at FROM orders WHERE sale_id = $1 ORDER BY epoch, order_no", [saleId])
  ).rows.map((r) => [r.order_id, r.user_id, String(r.quantity), r.price, r.currency, r.status, r.accepted_at.toISOString(), ""]);

  await page.goto(`${stack.controlPlane.url}/admin/sales/${saleId}/orders`);
  await page.locator("#orders-summary", { hasText: "100 orders shown; more to load." }).waitFor();
  await page.click("#orders-more");
  await page.locator("#orders-summary", { hasText: "200 orders shown" }).waitFor();
  await page.click("#orders-more");
  await page.locator("#orders-summary", { hasText: "300 orders shown; that is all of them." }).waitFor();
  expect(await page.locator("#orders-more").isHidden()).toBe(true);
  const shown = await page.locator("tr[data-order]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-order")));
  expect(shown).toEqual(pg.map((r) => r[0]).reverse());
  // The price each order was bought at: the test control plane's default, 199 cents.
  expect(await page.locator(`tr[data-order="${pg[0]![0]}"] td[data-label="Unit price"]`).innerText()).toBe("$1.99");
  // A sale of deduction `order` takes no payment: no "Paid at" column, no "not paid" on every order.
  expect(await page.locator("#orders thead").innerText()).not.toMatch(/Paid at/);
  expect(await page.locator("#orders-body").innerText()).not.toMatch(/not paid/);
  await screenshots(page, "admin-orders");

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#orders-csv")]);
  expect(download.suggestedFilename()).toBe(`${saleId}-orders.csv`);
  const [header, ...rows] = parseCsv(readFileSync((await download.path())!, "utf8"));
  expect(header).toEqual(["order_id", "user_id", "quantity", "price", "currency", "status", "accepted_at", "paid_at"]);
  expect(rows).toEqual(pg);

  // Search by a user id, then by an order id; a status filter.
  const [orderId, userId, , , , status] = pg[123]!;
  await page.fill("#orders-search", userId!);
  await page.press("#orders-search", "Enter");
  await page.locator("#orders-summary", { hasText: "1 orders shown; that is all of them." }).waitFor();
  expect(await page.locator("tr[data-order]").getAttribute("data-order")).toBe(orderId);
  // Read in the page: page.url() learns of history.replaceState only later.
  expect(await page.evaluate<string>("location.search")).toBe(`?q=${encodeURIComponent(userId!)}`);
  await page.fill("#orders-search", orderId!);
  await page.press("#orders-search", "Enter");
  await page.locator(`tr[data-order="${orderId}"] td`, { hasText: userId! }).waitFor();
  await page.fill("#orders-search", "");
  await page.selectOption("#orders-status", "expired");
  await page.locator("#orders-summary", { hasText: "No order matches." }).waitFor();
  await page.selectOption("#orders-status", status!);
  await page.locator("#orders-summary", { hasText: "100 orders shown; more to load." }).waitFor();
  expect(await page.getAttribute("#orders-csv", "href")).toBe(`/admin/api/sales/${saleId}/orders.csv?status=${status}`);
});

test("no page logged a console error (no CSP violation, no 401 for a favicon) but the wrong token's refusal", () => {
  expect(browser.consoleErrors).toEqual([expect.stringMatching(/\/admin\/login: Failed to load resource: the server responded with a status of 401 .*\(http:\/\/127\.0\.0\.1:\d+\/admin\/login\)$/)]);
});

test("the pages asked nothing of any other origin", () => {
  const foreign = browser.requested.filter((url) => !url.startsWith(`${stack.controlPlane.url}/`));
  expect(foreign).toEqual([]);
});
