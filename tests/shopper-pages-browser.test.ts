/**
 * The shopper pages in a real browser (Debian's chromium via playwright-core) against a real
 * gateway, Redis, order worker and Postgres: the countdown by the server's clock enables the
 * button by itself; the demo login; challenge → purchase → order confirmed; a wrong answer is
 * refused; a sale that sells out while the page is open says so without a click; a reserved
 * order is paid from its page. Screenshots
 * at desktop and phone width go to test-artifacts/. Every sale is counted at the end.
 */
import type { Page, Response } from "playwright-core";
import type { Redis } from "@flash-sale/node-common";
import { Gateway, LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import type { PrivateRedis } from "./support/private-redis";
import type { TestDatabase } from "./support/test-database";
import type { ControlPlane } from "./support/control-plane";
import { TestStack } from "./support/test-stack";
import type { WorkerProcess } from "./support/stream-fixtures";
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { purchase } from "./support/http";
import { signToken } from "./support/tokens";
import { solveChallenge, wrongAnswer } from "./support/challenges";
import { Browser, PHONE, fitsWidth, focusedId, imageLoaded, screenshots } from "./support/browser";

// A browser waits for real time (a countdown, the worker's drain); jest's project testTimeout is not applied per file.
jest.setTimeout(60_000);

let stack: TestStack;
let redisServer: PrivateRedis;
let redis: Redis;
let db: TestDatabase;
let controlPlane: ControlPlane;
let gateway: Gateway;
let worker: WorkerProcess;
let browser: Browser;

const SHOPPER = "browser-shopper";
const COUNTDOWN_SEC = 8;
let countdownStartsAtMs: number;
const limits = { userRatePerSecond: 50, userBurst: 50, admitPerSecond: 100000 };

beforeAll(async () => {
  stack = await TestStack.start({ name: "browser", knobs: { ...LOAD_TEST_KNOBS, dev_login: "on" }, worker: {} });
  ({ redisServer, redis, db, controlPlane, gateway } = stack);
  worker = stack.worker!;
  countdownStartsAtMs = Math.ceil(Date.now() / 1000) * 1000 + COUNTDOWN_SEC * 1000;
  await controlPlane.createSale({
    id: "bt-countdown",
    name: "Countdown sneakers",
    price: 4999,
    stock: 3,
    startsAt: new Date(countdownStartsAtMs).toISOString(),
    endsAt: new Date(countdownStartsAtMs + 3_600_000).toISOString(),
    limits,
  });
  await controlPlane.createSale({ id: "bt-challenge", name: "Challenge headphones", price: 12900, stock: 3, challenge: true, limits });
  await controlPlane.createSale({ id: "bt-wrong", name: "Wrong-answer watch", price: 2500, stock: 3, challenge: true, limits });
  await controlPlane.createSale({ id: "bt-soldout", name: "Last-unit lamp", price: 1999, currency: "EUR", stock: 1, limits });
  await controlPlane.createSale({ id: "bt-reserve", name: "Reserved kettle", price: 3500, stock: 3, deduction: "reserve", paymentTimeoutSeconds: 600, limits });
  for (const id of ["bt-countdown", "bt-challenge", "bt-wrong", "bt-soldout", "bt-reserve"]) await waitForSale(gateway, id);
  browser = await Browser.launch();
});

afterAll(async () => {
  await browser?.close();
  // Partial setups too: whatever started is stopped.
  expect(await stack?.stop()).toEqual({ code: 0, signal: null });
});

async function open(path: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${gateway.url}${path}`);
  return page;
}

/** The next challenge the page fetches, read off the wire (the page never shows its id). */
function nextChallenge(page: Page): Promise<string> {
  return page
    .waitForResponse((r: Response) => r.url().endsWith("/challenge") && r.request().method() === "POST")
    .then(async (r) => {
      expect(r.status()).toBe(200);
      return ((await r.json()) as { challengeId: string }).challengeId;
    });
}

test("the sale list shows every sale with its status", async () => {
  const page = await open("/");
  await page.locator("#sales li").nth(3).waitFor();
  const items = await page.locator("#sales li").allInnerTexts();
  expect(items.join("\n")).toMatch(/Countdown sneakers[\s\S]*Coming soon/);
  expect(items.join("\n")).toMatch(/Challenge headphones[\s\S]*\$129\.00[\s\S]*On sale now/);
  expect(await fitsWidth(page)).toBe(true);
  await screenshots(page, "sale-list");
  await page.close();
});

test("the countdown reaches zero and the button enables itself, without a reload; the demo login buys", async () => {
  const page = await open("/sales/bt-countdown");
  let navigations = 0;
  page.on("framenavigated", () => navigations++);
  await page.waitForSelector("body[data-phase=upcoming]");
  expect(await page.locator("#buy").isDisabled()).toBe(true);
  expect(await page.locator("#countdown").innerText()).toMatch(/^00:0\d$/);
  expect(await page.locator("#status").getAttribute("aria-live")).toBe("polite");
  expect(await page.locator("#status").innerText()).toMatch(/starts in \d+ seconds?\./);
  await screenshots(page, "countdown");

  await page.locator("#buy:enabled").waitFor({ timeout: (COUNTDOWN_SEC + 10) * 1000 });
  const enabledAt = Date.now();
  // By the server's clock (this machine's, here): not before the start, and promptly after it.
  expect(enabledAt).toBeGreaterThanOrEqual(countdownStartsAtMs - 300);
  expect(enabledAt).toBeLessThan(countdownStartsAtMs + 1500);
  expect(navigations).toBe(0);
  expect(await page.locator("#status").innerText()).toMatch(/open/);
  expect(await page.locator("#countdown-box").isHidden()).toBe(true);

  // Not logged in yet: the purchase asks for the demo login, then goes on by itself.
  await page.locator("#buy").click();
  await page.locator("#login-name").waitFor();
  expect(await focusedId(page)).toBe("login-name");
  await page.keyboard.type(SHOPPER);
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/orders\/bt-countdown\.\d+\.\d+$/);
  await page.waitForSelector("body[data-order-status=confirmed]", { timeout: 20000 });
  expect(await page.locator("#order-status").innerText()).toMatch(/Confirmed/);
  await page.close();
});

test("challenge → purchase → the order page follows the order to confirmed (keyboard only)", async () => {
  const page = await open("/sales/bt-challenge");
  await page.locator("#buy:enabled").waitFor();
  const issued = nextChallenge(page);
  await page.focus("#buy");
  await page.keyboard.press("Enter");
  const challengeId = await issued;
  await page.locator("#challenge").waitFor();
  expect(await focusedId(page)).toBe("challenge-answer");
  const answer = solveChallenge(challengeId, "bt-challenge", SHOPPER);
  // The answer is nowhere in the page: not in its text, its DOM, nor the picture's markup.
  expect(await page.content()).not.toContain(answer);
  expect(await page.locator("#challenge-image").getAttribute("src")).toMatch(/^data:image\/svg\+xml;base64,/);
  expect(await imageLoaded(page, "#challenge-image")).toBe(true);
  await page.keyboard.type(answer);
  await screenshots(page, "challenge");
  await page.keyboard.press("Enter");

  await page.waitForURL(/\/orders\/bt-challenge\.\d+\.\d+$/);
  await page.waitForSelector("body[data-order-status=confirmed]", { timeout: 20000 });
  expect(await page.locator("#order-status").getAttribute("aria-live")).toBe("polite");
  expect(await page.locator("#order-details").innerText()).toMatch(/bt-challenge[\s\S]*1/);
  expect(await fitsWidth(page)).toBe(true);
  await screenshots(page, "order-confirmed");
  await page.close();
});

test("a wrong answer is refused, with a new picture to try again, and nothing is sold", async () => {
  const page = await open("/sales/bt-wrong");
  await page.locator("#buy:enabled").waitFor();
  const first = nextChallenge(page);
  await page.locator("#buy").click();
  const challengeId = await first;
  await page.locator("#challenge").waitFor();
  const refused = page.waitForResponse((r) => r.url().endsWith("/purchase"));
  const second = nextChallenge(page);
  await page.locator("#challenge-answer").fill(wrongAnswer(solveChallenge(challengeId, "bt-wrong", SHOPPER)));
  await page.locator("#confirm").click();
  const res = await refused;
  expect(res.status()).toBe(403);
  expect(((await res.json()) as { error: string }).error).toBe("challenge_failed");
  expect(await second).not.toBe(challengeId);
  await page.locator("#message").filter({ hasText: /wrong/ }).waitFor();
  expect(page.url()).toBe(`${gateway.url}/sales/bt-wrong`);
  expect(await page.locator("#challenge-answer").inputValue()).toBe("");
  await screenshots(page, "challenge-refused");
  await page.close();
});

test("a sale that sells out while the page is open shows sold out by itself, without a click", async () => {
  const page = await open("/sales/bt-soldout");
  await page.setViewportSize(PHONE);
  await page.locator("#buy:enabled").waitFor();
  expect(await page.locator("#sale-price").innerText()).toMatch(/€19\.99/);
  expect((await purchase(gateway.url, "bt-soldout", signToken("someone-faster"))).status).toBe(202);

  await page.waitForSelector("body[data-phase=sold_out]", { timeout: 10000 });
  expect(await page.locator("#buy").isDisabled()).toBe(true);
  expect(await page.locator("#buy").innerText()).toBe("Sold out");
  expect(await page.locator("#status").innerText()).toMatch(/Sold out/);
  expect(await fitsWidth(page)).toBe(true);
  await screenshots(page, "sold-out");
  await page.close();
});

test("a reserved order offers its payment until paid, then shows it paid", async () => {
  const page = await open("/sales/bt-reserve");
  await page.locator("#buy:enabled").waitFor();
  await page.locator("#buy").click();
  await page.waitForURL(/\/orders\/bt-reserve\.\d+\.\d+$/);
  await page.locator("#order-pay").waitFor();
  expect(await page.locator("#order-status").innerText()).toMatch(/Reserved/);
  expect(await page.locator("#order-payment").innerText()).toMatch(/Pay by .+, or the unit goes back/);
  await screenshots(page, "order-awaiting-payment");
  await page.locator("#order-pay").click();
  await page.waitForSelector("body[data-order-status=paid]", { timeout: 10000 });
  expect(await page.locator("#order-status").innerText()).toMatch(/Paid/);
  expect(await page.locator("#order-payment").isHidden()).toBe(true);
  await page.close();
});

test("the pages asked nothing of any origin but the gateway's", () => {
  const elsewhere = browser.requested.filter((u) => !u.startsWith(`${gateway.url}/`) && !u.startsWith("data:"));
  expect(browser.requested.length).toBeGreaterThan(10);
  expect(elsewhere).toEqual([]);
});

test("every sale counts: one unit each to the shoppers who got through, none on the wrong answer", async () => {
  const expected = { "bt-countdown": 1, "bt-challenge": 1, "bt-wrong": 0, "bt-soldout": 1, "bt-reserve": 1 };
  for (const [saleId, sold] of Object.entries(expected)) {
    await waitForRows(db.pool, saleId, sold);
    const count = await countSale(redis, db.pool, saleId);
    const total = saleId === "bt-soldout" ? 1 : 3;
    expect({ saleId, ...count }).toEqual({ saleId, ...balancedCount(sold, total - sold) });
  }
  expect(gateway.errorLines()).toEqual([]);
});
