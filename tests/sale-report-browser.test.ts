/**
 * The sale's report page and the live page's kept history in a real browser, against a control
 * plane whose kept traffic and orders are in Postgres (no gateway: the report reads Postgres
 * only): the live page opened minutes into the sale charts its first kept second; the report
 * page shows units, revenue, paid share, time to sell out, peak, purchase latency, requests by outcome, the
 * timeline, and a CSV of the series; no console error.
 */
import type { Page } from "playwright-core";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { parseCsv } from "./support/csv";
import { adminLogin, Browser, fitsPhone, screenshots } from "./support/browser";

jest.setTimeout(60_000);

const SALE = "report-page";
/** The sale started this long ago; the kept seconds start at its start. */
const STARTED_MS = 8 * 60_000;
/** Cumulative counters of the kept seconds: 7 in the first, 18,000 in the second (the spike), 12 in the third. */
const KEPT = [
  { accepted: 2, not_started: 5 },
  { accepted: 3, not_started: 5, sold_out: 17_999 },
  { accepted: 3, not_started: 5, sold_out: 18_011 },
];

let browser: Browser;
let page: Page;
let startsAt: number;

const stack = useStack(new TestStack({ name: "sale_report_browser", gateway: false }), async () => {
  startsAt = Math.floor((Date.now() - STARTED_MS) / 1000) * 1000;
  await stack.controlPlane.createSale({ id: SALE, name: "Report page sale", stock: 3, price: 1999, currency: "EUR", deduction: "reserve", paymentTimeoutSeconds: 600, startsAt: new Date(startsAt).toISOString() });
  expect((await stack.controlPlane.admin("POST", `/admin/api/sales/${SALE}/pause`)).status).toBe(200);
  // As the order worker writes them: 3 units sold 1.5 s after the start, 2 of them paid.
  await stack.db.pool.query(
    `INSERT INTO orders (order_id, sale_id, order_no, epoch, user_id, user_units, quantity, status, accepted_at, status_changed_at, price, currency)
     SELECT $1 || '.1.' || n, $1, n, 1, 'u' || n, 1, 1, s, $2::timestamptz + n * interval '500 ms', CASE WHEN s = 'paid' THEN now() END, 1999, 'EUR'
       FROM unnest(ARRAY[1, 2, 3], ARRAY['paid', 'paid', 'confirmed']) AS t(n, s)`,
    [SALE, new Date(startsAt)],
  );
  for (const [i, requests] of KEPT.entries()) {
    // The purchases' latency histogram, kept from the last second only: 50 answered within 1 ms, 90 within 2 ms, 100 within 5 ms.
    const latency = i === KEPT.length - 1 ? { "0.001": 50, "0.002": 90, "0.005": 100, "+Inf": 100 } : null;
    await stack.db.pool.query("INSERT INTO sale_traffic_seconds (sale_id, second, requests, gateways, purchase_latency) VALUES ($1, $2, $3, 2, $4)", [SALE, new Date(startsAt + i * 1000), requests, latency]);
  }
  browser = await Browser.launch({ closedWith: stack });
  page = await browser.newPage();
  await adminLogin(page, stack.controlPlane.url);
});

test("the live page opened minutes into the sale charts it from its first kept second", async () => {
  await page.goto(`${stack.controlPlane.url}/admin/sales/${SALE}`);
  const over = page.locator("#chart .u-over");
  await over.waitFor();
  expect(await page.locator("#traffic-title").innerText()).toBe("Traffic over the sale");
  // The kept seconds are drawn once the report is read; the cursor at the chart's left edge is on the first.
  const legend = page.locator("#chart .u-legend .u-series").nth(2).locator(".u-value");
  const box = (await over.boundingBox())!;
  for (let i = 0; i < 20 && (await legend.innerText()) !== "7.0 req/s"; i++) {
    await page.mouse.move(box.x + 1, box.y + box.height / 2);
    await page.waitForTimeout(100);
  }
  expect(await legend.innerText()).toBe("7.0 req/s");
  expect(await page.getAttribute("#report-link", "href")).toBe(`/admin/sales/${SALE}/report`);
  await screenshots(page, "live-page-history");
});

test("the report page tells what sold, how fast, who tried and what happened", async () => {
  await page.goto(`${stack.controlPlane.url}/admin/sales/${SALE}/report`);
  await page.locator("#report-units").waitFor();
  expect(await page.locator("#report-units").innerText()).toBe("3 of 3");
  expect(await page.locator("#report-revenue").innerText()).toBe("€59.97");
  expect(await page.locator("#report-orders").innerText()).toBe("3");
  expect(await page.locator("#report-paid").innerText()).toBe("66.7 % (2)");
  expect(await page.locator("#report-sellout").innerText()).toBe("1.5 s");
  expect(await page.locator("#report-peak").innerText()).toMatch(/^18,000 req\/s at \d\d:\d\d:\d\d$/);
  expect(await page.locator("#report-latency").innerText()).toBe("p50 1 ms · p95 3.5 ms · p99 4.7 ms");
  expect(await page.locator("#report-requests caption").innerText()).toBe("18,019 requests over 3 kept seconds");
  expect(await page.locator("#report-requests tbody tr").allInnerTexts()).toEqual(["sold_out\t18,011", "not_started\t5", "accepted\t3"]);
  expect(await page.locator("#report-statuses tr[data-status=paid] td").innerText()).toBe("2");
  expect(await page.locator("#report-timeline tbody tr td:nth-child(2)").allInnerTexts()).toEqual(["starts", "sold out", "publish", "pause"]);
  expect(await page.locator("#report-chart .u-over").count()).toBe(1);
  expect(await fitsPhone(page, 200)).toBe(true);
  await screenshots(page, "sale-report");

  const download = await Promise.all([page.waitForEvent("download"), page.click("#report-csv")]).then(([d]) => d);
  const { readFileSync } = await import("node:fs");
  const rows = parseCsv(readFileSync((await download.path())!, "utf8"));
  expect(rows[0]).toEqual(["second", "requests", "accepted", "not_started", "sold_out", "gateways", "queue_joined", "queue_admitted", "passes_used", "passes_expired"]);
  expect(rows.slice(1).map((r) => r.slice(1, 6))).toEqual([
    ["7", "2", "5", "0", "2"],
    ["18000", "1", "0", "17999", "2"],
    ["12", "0", "0", "12", "2"],
  ]);
  expect(browser.consoleErrors).toEqual([]);
});
