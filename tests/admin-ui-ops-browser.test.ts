/**
 * The ops console in a real browser whose operator is in Asia/Kolkata (UTC+5:30), against a
 * control plane with a persistent private Redis, its own database and no live gateway (the
 * gateway metrics URL is dead): times shown in the operator's zone with UTC beside them and
 * typed in it; each state's actions, and the API refusing the ones not shown; a draft deleted
 * after its name is typed; ended sales archived, search and state filters; one sale's stats
 * failing for real while the list shows the rest, then every sale's while Redis is down, and
 * back; Pause and End working while the traffic and the stats cannot be read, the header
 * following without a reload; the price in its currency as typed; a warning before saving an
 * end already past; the focus on the first error; no horizontal scrolling at 390 px; no
 * console error outside the failures made on purpose.
 */
import type { Page } from "playwright-core";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { buyAll } from "./support/purchase-script";
import { adminLogin, answerDialogs, Browser, fitsPhone, focusedId, screenshots } from "./support/browser";

jest.setTimeout(60_000);

const ZONE = "Asia/Kolkata";
const HOUR = 3_600_000;

let browser: Browser;
let page: Page;

/** One sale in each state (sold out is active with no units left), and one whose stats fail. */
const SALES = {
  draft: { id: "ops-draft", name: "Ops draft" },
  scheduled: { id: "ops-scheduled", name: "Ops scheduled" },
  active: { id: "ops-active", name: "Ops active" },
  soldOut: { id: "ops-sold-out", name: "Ops sold out" },
  paused: { id: "ops-paused", name: "Ops paused" },
  ended: { id: "ops-ended", name: "Ops ended" },
  broken: { id: "ops-broken", name: "Ops broken stats" },
};

function url(path: string): string {
  return stack.controlPlane.url + path;
}

function text(selector: string): Promise<string> {
  return page.locator(selector).innerText();
}

function actions(): Promise<string[]> {
  return page.locator("#actions > *").allInnerTexts();
}

async function saleInPostgres(id: string): Promise<{ ends_at: Date; paused: boolean } | undefined> {
  return (await stack.db.pool.query("SELECT ends_at, paused FROM sales WHERE id = $1", [id])).rows[0];
}

/** Expects the console errors since `from` to be the browser's notes of API answers with `status`, and forgets them. */
function expectOnlyFailedCalls(from: number, status: RegExp): void {
  for (const line of browser.consoleErrors.splice(from)) {
    expect(line).toMatch(/Failed to load resource: the server responded with a status of (\d+) .*\(http:\/\/127\.0\.0\.1:\d+\/admin\/api\/sales[^)]*\)$/);
    expect(/status of (\d+)/.exec(line)![1]).toMatch(status);
  }
}

// No gateway: the metrics URL the control plane is given answers nothing.
const stack = useStack(new TestStack({ name: "admin_ui_ops", persistentRedis: true, gateway: false }), async () => {
  const now = Date.now();
  await stack.controlPlane.createSale({ ...SALES.scheduled, stock: 10, startsAt: "2030-01-01T12:00:00Z", endsAt: "2030-01-01T13:00:00Z" });
  await stack.controlPlane.createSale({ ...SALES.active, stock: 10 });
  await stack.controlPlane.createSale({ ...SALES.soldOut, stock: 1 });
  const [bought] = await buyAll(stack.redis, SALES.soldOut.id, [{ userId: "only-buyer", qty: 1 }], 1);
  // As the order worker (not running here) would write it.
  await stack.db.pool.query(
    "INSERT INTO orders (order_id, sale_id, order_no, epoch, user_id, user_units, quantity, accepted_at, price, currency) VALUES ($1, $2, $3, 1, 'only-buyer', 1, 1, now(), 199, 'USD')",
    [bought!.orderId, SALES.soldOut.id, bought!.orderNo],
  );
  await stack.controlPlane.createSale({ ...SALES.paused, stock: 10 });
  expect((await stack.controlPlane.admin("POST", `/admin/api/sales/${SALES.paused.id}/pause`)).status).toBe(200);
  await stack.controlPlane.createSale({ ...SALES.ended, stock: 10, startsAt: new Date(now - 2 * HOUR).toISOString(), endsAt: new Date(now - HOUR).toISOString() });
  await stack.controlPlane.createSale({ ...SALES.broken, stock: 10, perUserLimit: 2 });
  // Units over Postgres' integer: the stats read of this sale fails in Postgres itself.
  await stack.db.pool.query(
    `INSERT INTO orders (order_id, sale_id, order_no, epoch, user_id, user_units, quantity, accepted_at, price, currency)
     VALUES ('ops-broken.1.1', 'ops-broken', 1, 1, 'whale', 1, 2147483647, now(), 199, 'USD'), ('ops-broken.1.2', 'ops-broken', 2, 1, 'whale', 2, 2147483647, now(), 199, 'USD')`,
  );
  // A draft is a sale saved but never published (e.g. while Redis was down).
  await stack.db.pool.query(
    `INSERT INTO sales (id, name, price, currency, stock, starts_at, ends_at, per_user_limit, deduction, limits)
     VALUES ($1, $2, 500, 'EUR', 5, '2030-02-01T09:00:00Z', '2030-02-01T10:00:00Z', 1, 'order', '{"userRatePerSecond":5,"userBurst":5,"admitPerSecond":100}')`,
    [SALES.draft.id, SALES.draft.name],
  );

  browser = await Browser.launch({ timezoneId: ZONE, closedWith: stack });
  page = await browser.newPage();
  await adminLogin(page, stack.controlPlane.url);
});

test("times are shown in the operator's zone with UTC beside them, and typed in it", async () => {
  await page.goto(url("/admin"));
  const starts = page.locator(`tr[data-sale="${SALES.scheduled.id}"] td[data-label=Starts]`);
  await starts.waitFor();
  expect(await starts.locator(".local-time").innerText()).toBe("2030-01-01 17:30:00 GMT+5:30");
  expect(await starts.locator(".utc-time").innerText()).toBe("2030-01-01 12:00:00 UTC");
  expect(await starts.locator("time").getAttribute("datetime")).toBe("2030-01-01T12:00:00.000Z");

  await page.goto(url(`/admin/sales/${SALES.scheduled.id}/edit`));
  // Named as the browser names it (chromium's ICU calls Asia/Kolkata "Asia/Calcutta").
  const zoneName = await page.evaluate<string>("Intl.DateTimeFormat().resolvedOptions().timeZone");
  expect(["Asia/Kolkata", "Asia/Calcutta"]).toContain(zoneName);
  expect(await page.locator("label[for=field-startsAt]").innerText()).toBe(`Starts at (your time, ${zoneName})`);
  // The browser drops zero seconds from the value.
  expect(await page.inputValue("#field-startsAt")).toBe("2030-01-01T17:30");
  expect(await page.getAttribute("#field-startsAt", "type")).toBe("datetime-local");
  await page.fill("#field-endsAt", "2030-01-01T19:00:00");
  expect(await text("#shown-endsAt")).toBe("= 2030-01-01 13:30:00 UTC");
  await page.click("button[type=submit]");
  await page.waitForURL(url(`/admin/sales/${SALES.scheduled.id}`));
  // Only the field changed was sent: the start kept its stored instant.
  expect((await stack.controlPlane.admin("GET", `/admin/api/sales/${SALES.scheduled.id}`)).body).toMatchObject({ startsAt: "2030-01-01T12:00:00.000Z", endsAt: "2030-01-01T13:30:00.000Z" });
  expect(await page.locator("#sale-ends .local-time").innerText()).toBe("2030-01-01 19:00:00 GMT+5:30");
});

test.each([
  ["draft", SALES.draft.id, "draft", ["Publish", "Edit", "Pause", "Delete", "Orders", "Report"], ["end"]],
  ["scheduled", SALES.scheduled.id, "scheduled", ["Edit", "Pause", "Delete", "Orders", "Report"], ["end"]],
  ["active", SALES.active.id, "active", ["Edit", "Pause", "End", "Orders", "Report"], ["delete"]],
  ["sold out", SALES.soldOut.id, "sold out", ["Edit", "Pause", "End", "Orders", "Report"], ["delete"]],
  ["paused", SALES.paused.id, "paused", ["Edit", "Resume", "End", "Orders", "Report"], ["delete"]],
  ["ended", SALES.ended.id, "ended", ["Orders", "Report"], ["update", "pause", "resume", "delete"]],
])("a %s sale offers only the actions its state allows", async (_what, id, state, shown, refused) => {
  await page.goto(url(`/admin/sales/${id}`));
  await page.locator("#sale-state", { hasText: state }).waitFor();
  expect(await actions()).toEqual(shown);
  // The API refuses what is not offered (409 sale_conflict), by the same rules.
  for (const action of refused) {
    const res = action === "update" ? await stack.controlPlane.admin("PATCH", `/admin/api/sales/${id}`, { name: "x" }) : await stack.controlPlane.admin(action === "delete" ? "DELETE" : "POST", `/admin/api/sales/${id}${action === "delete" ? "" : `/${action}`}`);
    expect([action, res.status, res.body?.error]).toEqual([action, 409, "sale_conflict"]);
  }
  if (state === "sold out") await screenshots(page, "admin-ops-sold-out");
});

test("a draft is deleted only after its name is typed, and the list says so", async () => {
  await page.goto(url(`/admin/sales/${SALES.draft.id}`));
  await page.locator("#action-delete").waitFor();
  const prompts = answerDialogs(page, { text: "Ops drafty" }, true);
  await page.click("#action-delete");
  await page.locator("#action-error", { hasText: "Not deleted: the name typed is not the sale's name." }).waitFor();
  expect(await saleInPostgres(SALES.draft.id)).toBeDefined();

  page.once("dialog", (d) => void d.accept(SALES.draft.name));
  await page.click("#action-delete");
  await page.waitForURL(url(`/admin?deleted=${SALES.draft.id}`));
  expect(prompts).toEqual([`Delete the sale "${SALES.draft.name}" (${SALES.draft.id})? It cannot be undone. Type its name to confirm:`]);
  expect(await text("#deleted-notice")).toBe(`Deleted the sale ${SALES.draft.id}.`);
  expect(await saleInPostgres(SALES.draft.id)).toBeUndefined();
});

test("ended sales are archived; the list is searched by name or id and filtered by state, in its address", async () => {
  await page.goto(url("/admin"));
  await page.locator("#list-summary", { hasText: "shown" }).waitFor();
  const rows = () => page.locator("tr[data-sale]").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-sale")));
  expect(await rows()).not.toContain(SALES.ended.id);
  expect(await text("#list-summary")).toBe("5 of 6 sales shown; 1 archived (ended) hidden.");
  await page.check("#show-archived");
  expect(await rows()).toContain(SALES.ended.id);
  await page.uncheck("#show-archived");

  await page.fill("#filter-text", "OPS SOLD");
  expect(await rows()).toEqual([SALES.soldOut.id]);
  await page.fill("#filter-text", "ops-pa");
  expect(await rows()).toEqual([SALES.paused.id]);
  await page.fill("#filter-text", "");
  await page.locator(`tr[data-sale="${SALES.soldOut.id}"][data-state="sold out"]`).waitFor();
  await page.selectOption("#filter-state", "sold out");
  expect(await rows()).toEqual([SALES.soldOut.id]);
  // Asking for ended sales shows them, archive or not.
  await page.selectOption("#filter-state", "ended");
  expect(await rows()).toEqual([SALES.ended.id]);
  await page.fill("#filter-text", "ops");
  // Read in the page: page.url() learns of history.replaceState only later.
  expect(await page.evaluate<string>("location.search")).toBe("?q=ops&state=ended");
  await page.reload();
  await page.locator(`tr[data-sale="${SALES.ended.id}"]`).waitFor();
  expect(await rows()).toEqual([SALES.ended.id]);
  expect(await page.inputValue("#filter-text")).toBe("ops");
});

test("one sale's stats failing for real: its row says so, the others show their counts", async () => {
  await page.goto(url("/admin?archived=1"));
  const broken = page.locator(`tr[data-sale="${SALES.broken.id}"] .stats-error`);
  await broken.waitFor();
  expect(await broken.innerText()).toBe("Its live stats could not be read: Postgres refused the read (integer out of range).");
  await page.locator(`tr[data-sale="${SALES.active.id}"] td[data-label=Left]`, { hasText: "10" }).waitFor();
  expect(await page.locator(`tr[data-sale="${SALES.soldOut.id}"] td[data-label=Sold]`).innerText()).toBe("1");
  expect(await page.getAttribute("#sales-stats-status", "data-state")).toBe("ok");
  await screenshots(page, "admin-ops-list-one-stats-failed");
  expect(await fitsPhone(page)).toBe(true);
});

test("the stats failing: Pause and End still work and the header follows without a reload", async () => {
  const errorsBefore = browser.consoleErrors.length;
  await page.goto(url(`/admin/sales/${SALES.broken.id}`));
  await page.locator("#stats-status[data-state=error]").waitFor();
  expect(await text("#stats-status")).toMatch(/^Could not load the live stats: An unexpected error occurred \(HTTP 500\)\. Retrying in \d+ s\.$/);
  // The header came from the list (Postgres only).
  expect(await text("#sale-name")).toBe(SALES.broken.name);
  expect(await actions()).toEqual(["Edit", "Pause", "End", "Orders", "Report"]);

  page.on("dialog", (d) => void d.accept());
  await page.click("#action-pause");
  await page.locator("#sale-state", { hasText: "paused" }).waitFor();
  expect(await actions()).toEqual(["Edit", "Resume", "End", "Orders", "Report"]);
  expect((await saleInPostgres(SALES.broken.id))?.paused).toBe(true);

  const endsBefore = await text("#sale-ends .local-time");
  await page.click("#action-end");
  await page.locator("#sale-state", { hasText: "ended" }).waitFor();
  page.removeAllListeners("dialog");
  const endedAt = (await saleInPostgres(SALES.broken.id))!.ends_at;
  expect(Date.now() - endedAt.getTime()).toBeLessThan(10_000);
  expect(await page.getAttribute("#sale-ends time", "datetime")).toBe(endedAt.toISOString());
  expect(await text("#sale-ends .local-time")).not.toBe(endsBefore);
  expect(await text("#sale-ends .local-time")).toMatch(/ GMT\+5:30$/);
  expect(await actions()).toEqual(["Orders", "Report"]);
  // Newest first: the end's entry, then the create's.
  await page.locator("#audit li[data-field=endsAt]").nth(1).waitFor();
  expect(await page.locator("#audit li[data-field=endsAt]").first().innerText()).toMatch(/^endsAt: .* GMT\+5:30 · .* UTC → .* GMT\+5:30 · .* UTC$/);
  expectOnlyFailedCalls(errorsBefore, /^500$/);
});

test("the traffic unreadable (no gateway answers): the page says so, and Pause and End work", async () => {
  await page.goto(url(`/admin/sales/${SALES.active.id}`));
  await page.locator("#requests-unknown").waitFor();
  expect(await text("#requests-unknown")).toBe("No gateway's metrics could be read: requests per second are unknown. Retrying every second.");
  await page.locator("#units-left", { hasText: "10" }).waitFor();
  expect(await text("#queue-lag")).toBe("0 orders");

  page.on("dialog", (d) => void d.accept());
  await page.click("#action-pause");
  await page.locator("#action-resume").waitFor();
  await page.click("#action-end");
  await page.locator("#sale-state", { hasText: "ended" }).waitFor();
  page.removeAllListeners("dialog");
  expect(await page.getAttribute("#sale-ends time", "datetime")).toBe((await saleInPostgres(SALES.active.id))!.ends_at.toISOString());
  await screenshots(page, "admin-ops-traffic-unknown");
  expect(await fitsPhone(page, 300)).toBe(true); // the chart follows its box's new width
});

test("Redis down: the list still shows every sale and says what failed; its stats come back with Redis", async () => {
  const errorsBefore = browser.consoleErrors.length;
  await page.goto(url("/admin?archived=1"));
  await page.locator(`tr[data-sale="${SALES.soldOut.id}"] td[data-label=Sold]`).waitFor();
  await stack.redisServer.stop();
  try {
    await page.locator(`tr[data-sale="${SALES.soldOut.id}"] .stats-error`).waitFor({ timeout: 15_000 });
    expect(await page.locator("tr[data-sale]").count()).toBe(6);
    expect(await page.locator("tr[data-sale] .stats-error").count()).toBe(6);
    expect(await text(`tr[data-sale="${SALES.soldOut.id}"] .stats-error`)).toBe("Its live stats could not be read: Redis did not answer.");
    expect(await text("#sales-status")).toMatch(/^Read the sales at /);
    await screenshots(page, "admin-ops-redis-down");

    // The live page: its stats panel fails on its own, the header and actions are there.
    await page.goto(url(`/admin/sales/${SALES.soldOut.id}`));
    await page.locator("#stats-status[data-state=error]").waitFor();
    expect(await text("#sale-name")).toBe(SALES.soldOut.name);
    expect(await actions()).toContain("End");
    await page.goto(url("/admin?archived=1"));
  } finally {
    await stack.redisServer.resume();
  }
  await page.locator(`tr[data-sale="${SALES.soldOut.id}"] td[data-label=Sold]`, { hasText: "1" }).waitFor({ timeout: 15_000 });
  expect(await page.locator("tr[data-sale] .stats-error").count()).toBe(1);
  expectOnlyFailedCalls(errorsBefore, /^5\d\d$/);
});

test("the price is shown in its currency as typed", async () => {
  await page.goto(url("/admin/sales/new"));
  await page.fill("#field-price", "1999");
  expect(await text("#shown-price")).toBe("Shoppers see $19.99");
  await page.fill("#field-currency", "JPY");
  expect(await text("#shown-price")).toBe("Shoppers see ¥1,999");
  await page.fill("#field-currency", "EUR");
  await page.fill("#field-price", "250");
  expect(await text("#shown-price")).toBe("Shoppers see €2.50");
  await page.fill("#field-currency", "EURO");
  expect(await text("#shown-price")).toBe('"EURO" is not a currency code');
});

test("an end already past is warned of as typed and again before saving; refused, nothing is saved", async () => {
  await page.goto(url("/admin/sales/new"));
  const fields: Record<string, string> = { id: "ops-late", name: "Ops late", price: "100", stock: "5", startsAt: "2020-01-01T10:00:00", endsAt: "2020-01-01T11:00:00" };
  for (const [field, value] of Object.entries(fields)) await page.fill(`#field-${field}`, value);
  await page.selectOption("#field-deduction", "order");
  expect(await text("#warning-endsAt")).toBe("This end is already past: the sale would be over as soon as it is saved.");

  const asked = answerDialogs(page, "dismiss", true);
  await page.click("button[type=submit]");
  await page.locator("#error-endsAt", { hasText: "is already past; not saved" }).waitFor();
  expect(asked).toEqual(["The end (2020-01-01 11:00:00 GMT+5:30 · 2020-01-01 05:30:00 UTC) is already past: the sale would be over as soon as it is saved. Save anyway?"]);
  expect(await focusedId(page)).toBe("field-endsAt");
  expect(await page.getAttribute("#field-endsAt", "aria-invalid")).toBe("true");
  expect(await saleInPostgres("ops-late")).toBeUndefined();

  page.once("dialog", (d) => void d.accept());
  await page.click("button[type=submit]");
  await page.waitForURL(url("/admin/sales/ops-late"));
  await page.locator("#sale-state", { hasText: "ended" }).waitFor();
});

test("an error the server finds takes the focus to its field, marked invalid and described by the message", async () => {
  const errorsBefore = browser.consoleErrors.length;
  await page.goto(url("/admin/sales/new"));
  const taken: Record<string, string> = { id: SALES.scheduled.id, name: "Taken id", price: "100", stock: "5", startsAt: "2031-01-01T10:00:00", endsAt: "2031-01-01T11:00:00" };
  for (const [field, value] of Object.entries(taken)) await page.fill(`#field-${field}`, value);
  await page.selectOption("#field-deduction", "order");
  await page.focus("#field-stock");
  await page.click("button[type=submit]");
  await page.locator("#error-id", { hasText: "already taken" }).waitFor();
  expect(await focusedId(page)).toBe("field-id");
  expect(await page.getAttribute("#field-id", "aria-invalid")).toBe("true");
  expect(await page.getAttribute("#field-id", "aria-describedby")).toBe("hint-id error-id");
  expect(await text("#form-error")).toMatch(/^Not saved: /);
  expectOnlyFailedCalls(errorsBefore, /^400$/);
  await screenshots(page, "admin-ops-server-error");
  expect(await fitsPhone(page)).toBe(true);
});

test("the orders page fits a phone", async () => {
  await page.goto(url(`/admin/sales/${SALES.soldOut.id}/orders`));
  await page.locator("#orders-summary", { hasText: "1 orders shown; that is all of them." }).waitFor();
  expect(await page.locator("tr[data-order] td[data-label=User]").innerText()).toBe("only-buyer");
  expect(await fitsPhone(page)).toBe(true);
});

test("a sale in stock buckets shows each bucket's units left on its live page; a sale of one bucket does not", async () => {
  await stack.controlPlane.createSale({ id: "ops-split", name: "Ops split", stock: 10, stockBuckets: 3 });
  await page.goto(url("/admin/sales/ops-split"));
  await page.locator("#bucket-units-left", { hasText: "·" }).waitFor();
  // The units start in even shares, the first buckets one more.
  expect(await text("#bucket-units-left")).toBe("4 · 3 · 3");
  expect(await text("#units-left")).toBe("10");
  await page.goto(url(`/admin/sales/${SALES.scheduled.id}`));
  await page.locator("#units-left", { hasText: "10" }).waitFor();
  expect(await page.locator("#units-per-bucket").isHidden()).toBe(true);
});

test("no console error but the failed reads made on purpose", () => {
  expect(browser.consoleErrors).toEqual([]);
});
