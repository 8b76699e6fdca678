/**
 * The shopper pages in a real browser (Debian's chromium via playwright-core) against a real
 * gateway, Redis, order worker and Postgres: the sale list's order and labels; the login offered
 * during the countdown, then the button enables itself and buys at the start without another
 * step; challenge → purchase → order confirmed; the challenge's expiry countdown, new picture and
 * text question; a wrong answer refused; 409 before the challenge with the link to the order;
 * My orders after two purchases in two sales; a sale that sells out under an open page; a
 * reserved order paid from its page; a purchase whose answer was lost (the order found in the
 * shopper's orders) and a 503 that says the order may have been taken; the backend unreachable (requests cut, and a gateway that
 * never reached Redis); an unknown sale; the 404 page. Screenshots at desktop and phone width go
 * to test-artifacts/. Every sale is counted at the end.
 */
import type { Page, Response } from "playwright-core";
import { saleKeys } from "@flash-sale/contract/keys";
import { Gateway, LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { waitFor } from "./support/stream-fixtures";
import { purchase } from "./support/http";
import { freePort } from "./support/ports";
import { signToken } from "./support/tokens";
import { solveChallenge, wrongAnswer } from "./support/challenges";
import { Browser, PHONE, fitsWidth, focusedId, imageLoaded, screenshots } from "./support/browser";

// A browser waits for real time (a countdown, the worker's drain); jest's project testTimeout is not applied per file.
jest.setTimeout(60_000);

let browser: Browser;
/** Origins the pages may ask: this stack's gateway, and the one started without Redis. */
const origins: string[] = [];

const SHOPPER = "browser-shopper";
const limits = { userRatePerSecond: 50, userBurst: 50, admitPerSecond: 100000 };
const HOUR = 3_600_000;

const stack = useStack(new TestStack({ name: "browser", knobs: { ...LOAD_TEST_KNOBS, dev_login: "on" }, worker: {} }), async () => {
  origins.push(stack.gateway.url);
  const now = Date.now();
  await stack.controlPlane.createSale({ id: "bt-challenge", name: "Challenge headphones", price: 12900, stock: 3, challenge: true, limits });
  await stack.controlPlane.createSale({ id: "bt-text", name: "Readable radio", price: 4500, stock: 3, challenge: true, limits });
  await stack.controlPlane.createSale({ id: "bt-wrong", name: "Wrong-answer watch", price: 2500, stock: 3, challenge: true, limits });
  await stack.controlPlane.createSale({ id: "bt-soldout", name: "Last-unit lamp", price: 1999, currency: "EUR", stock: 1, limits });
  await stack.controlPlane.createSale({ id: "bt-reserve", name: "Reserved kettle", price: 3500, stock: 3, deduction: "reserve", paymentTimeoutSeconds: 600, limits });
  await stack.controlPlane.createSale({ id: "bt-lost", name: "Lost-answer lantern", price: 2200, stock: 3, limits });
  await stack.controlPlane.createSale({ id: "bt-uncertain", name: "Uncertain umbrella", price: 1800, stock: 3, limits });
  await stack.controlPlane.createSale({ id: "bt-two-a", name: "Blue mug", price: 800, stock: 3, limits });
  await stack.controlPlane.createSale({ id: "bt-two-b", name: "Green mug", price: 900, stock: 3, limits });
  await stack.controlPlane.createSale({ id: "bt-pair", name: "Pair of socks", price: 600, stock: 5, perUserLimit: 2, limits });
  await stack.controlPlane.createSale({ id: "bt-twin-1", name: "Twin lamp", price: 1500, stock: 4, limits, startsAt: new Date(now + HOUR).toISOString(), endsAt: new Date(now + 2 * HOUR).toISOString() });
  await stack.controlPlane.createSale({ id: "bt-twin-2", name: "Twin lamp", price: 1500, stock: 4, limits });
  await stack.controlPlane.createSale({ id: "bt-ended", name: "Yesterday's vase", price: 700, stock: 2, limits, startsAt: new Date(now - 2 * HOUR).toISOString(), endsAt: new Date(now - HOUR).toISOString() });
  for (const id of ["bt-challenge", "bt-text", "bt-wrong", "bt-soldout", "bt-reserve", "bt-lost", "bt-uncertain", "bt-two-a", "bt-two-b", "bt-pair", "bt-twin-1", "bt-twin-2", "bt-ended"]) await waitForSale(stack.gateway, id);
  browser = await Browser.launch({ closedWith: stack });
});

async function open(path: string, base = stack.gateway.url): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${base}${path}`);
  return page;
}

/** Opens the sale at `path` and clicks Buy: the page and the challenge it was given. */
async function buyToChallenge(path: string): Promise<{ page: Page; challengeId: string }> {
  const page = await open(path);
  await page.locator("#buy:enabled").waitFor();
  const first = nextChallenge(page);
  await page.locator("#buy").click();
  return { page, challengeId: (await first).challengeId };
}

/** The next challenge the page fetches, read off the wire (the page never shows its id). */
function nextChallenge(page: Page, status = 200): Promise<{ challengeId: string; kind: string; question?: string }> {
  return page
    .waitForResponse((r: Response) => r.url().endsWith("/challenge") && r.request().method() === "POST")
    .then(async (r) => {
      expect(r.status()).toBe(status);
      return (await r.json()) as { challengeId: string; kind: string; question?: string };
    });
}

/** The user's order ids in a sale, from Redis: its user-orders index and the records it names. */
async function redisOrderIds(saleId: string, user: string): Promise<string[]> {
  const k = saleKeys(saleId);
  const numbers = ((await stack.redis.hget(k.userOrders, user)) ?? "").split(" ").filter((n) => n !== "");
  const ids: string[] = [];
  for (const n of numbers) ids.push(`${saleId}.${(await stack.redis.hget(k.orders, n))!.split("\t")[3]}.${n}`);
  return ids;
}

test("the sale list: open and coming sales first, ended last, units left, times with their zone, sales of one name told apart", async () => {
  const page = await open("/");
  await page.locator("#sales li").nth(9).waitFor();
  const ids = await page.locator("#sales li").evaluateAll((lis) => lis.map((li) => (li as unknown as { dataset: { saleId: string } }).dataset.saleId));
  expect(ids.slice(-1)).toEqual(["bt-ended"]);
  expect(ids.indexOf("bt-twin-1")).toBe(ids.length - 2); // the one upcoming sale, after every open one
  expect(ids.indexOf("bt-soldout")).toBeLessThan(ids.indexOf("bt-twin-1"));
  const text = (await page.locator("#sales").innerText()).replace(/\s+/g, " ");
  expect(text).toMatch(/Challenge headphones \$129\.00 On sale now Ends .+ UTC 3 of 3 left/);
  expect(text).toMatch(/Yesterday's vase \$7\.00 Ended Ran until .+ UTC$/);
  expect(text).not.toMatch(/Yesterday's vase[^$]*left/);
  // Two sales named "Twin lamp": each link names its start and id.
  const twins = await page.locator("#sales a", { hasText: "Twin lamp" }).allInnerTexts();
  expect(twins).toHaveLength(2);
  expect(twins[0]).toMatch(/^Twin lamp \(from .+ UTC, sale bt-twin-2\)$/);
  expect(twins[1]).toMatch(/^Twin lamp \(from .+ UTC, sale bt-twin-1\)$/);
  expect(await page.locator("noscript").count()).toBe(1);
  expect(await fitsWidth(page)).toBe(true);
  await screenshots(page, "sale-list");
  await page.close();
});

test("login offered during the countdown; at the start the button enables itself and buys without another step", async () => {
  // Made here, so that the countdown is still running when the page opens, however slow the setup was.
  const startsAtMs = Math.ceil(Date.now() / 1000) * 1000 + 14_000;
  await stack.controlPlane.createSale({ id: "bt-countdown", name: "Countdown sneakers", price: 4999, stock: 3, limits, startsAt: new Date(startsAtMs).toISOString(), endsAt: new Date(startsAtMs + HOUR).toISOString() });
  await waitForSale(stack.gateway, "bt-countdown");
  const page = await open("/sales/bt-countdown");
  let navigations = 0;
  page.on("framenavigated", () => navigations++);
  await page.waitForSelector("body[data-phase=upcoming]");
  expect(await page.locator("#buy").isDisabled()).toBe(true);
  expect(await page.locator("#countdown").innerText()).toMatch(/^00:\d\d$/);
  expect(await page.locator("#status").getAttribute("aria-live")).toBe("polite");
  expect(await page.locator("#status").innerText()).toMatch(/starts in \d+ seconds?\./);
  expect(await page.locator("#sale-when").innerText()).toMatch(/^From .+ UTC to .+ UTC$/);

  // The first view offers the demo login (the knob is on), without a click.
  await page.locator("#login-name").waitFor();
  expect(await page.locator("#login-why").innerText()).toMatch(/buy the moment the sale opens/);
  expect(await page.locator("#login-elsewhere").isHidden()).toBe(true);
  await screenshots(page, "countdown-login");
  await page.locator("#login-name").fill(SHOPPER);
  await page.locator("#login-name").press("Enter");
  await page.locator("#whoami", { hasText: `Logged in as ${SHOPPER}.` }).waitFor();
  expect(await page.locator("#login").isHidden()).toBe(true);
  expect(Date.now()).toBeLessThan(startsAtMs);
  await screenshots(page, "countdown");

  await page.locator("#buy:enabled").waitFor({ timeout: 20_000 });
  const enabledAt = Date.now();
  // By the server's clock (this machine's, here): not before the start, and promptly after it.
  expect(enabledAt).toBeGreaterThanOrEqual(startsAtMs - 300);
  expect(enabledAt).toBeLessThan(startsAtMs + 1500);
  expect(navigations).toBe(0);
  expect(await page.locator("#status").innerText()).toMatch(/open/);
  expect(await page.locator("#countdown-box").isHidden()).toBe(true);

  // One click, no login step: straight to the order.
  await page.locator("#buy").click();
  await page.waitForURL(/\/orders\/bt-countdown\.\d+\.\d+$/);
  expect(navigations).toBe(1);
  await page.waitForSelector("body[data-order-status=confirmed]", { timeout: 20000 });
  expect(await page.locator("#order-status").innerText()).toMatch(/Confirmed/);
  expect(await page.locator("#order-details").innerText()).toMatch(/Countdown sneakers[\s\S]*\$49\.99[\s\S]*1[\s\S]*UTC/);
  await page.close();
});

let challengeOrderId: string;

test("challenge → purchase → the order page follows the order to confirmed (keyboard only)", async () => {
  const page = await open("/sales/bt-challenge");
  await page.locator("#buy:enabled").waitFor();
  // Told before the click: the limit and the step ahead; no quantity to choose with a limit of one.
  expect(await page.locator("#sale-terms").innerText()).toBe("One per shopper. Before buying you type six digits from a picture (or answer a text question).");
  expect(await page.locator("#quantity-box").isHidden()).toBe(true);
  const issued = nextChallenge(page);
  await page.focus("#buy");
  await page.keyboard.press("Enter");
  const { challengeId } = await issued;
  await page.locator("#challenge").waitFor();
  expect(await focusedId(page)).toBe("challenge-answer");
  const answer = solveChallenge(challengeId, "bt-challenge", SHOPPER);
  expect(answer).toMatch(/^[2346789]{6}$/);
  // The answer is nowhere in the page: not in its text, its DOM, nor the picture's markup.
  expect(await page.content()).not.toContain(answer);
  expect(await page.locator("#challenge-image").getAttribute("src")).toMatch(/^data:image\/svg\+xml;base64,/);
  expect(await imageLoaded(page, "#challenge-image")).toBe(true);
  expect(await page.locator("#challenge-image").evaluate((img) => (img as unknown as { clientWidth: number }).clientWidth)).toBeGreaterThanOrEqual(330);
  await page.keyboard.type(answer);
  await screenshots(page, "challenge");
  await page.keyboard.press("Enter");

  await page.waitForURL(/\/orders\/bt-challenge\.\d+\.\d+$/);
  challengeOrderId = page.url().split("/").pop()!;
  await page.waitForSelector("body[data-order-status=confirmed]", { timeout: 20000 });
  expect(await page.locator("#order-status").getAttribute("aria-live")).toBe("polite");
  expect(await page.locator("#order-details").innerText()).toMatch(/Challenge headphones[\s\S]*\$129\.00[\s\S]*1/);
  expect(await fitsWidth(page)).toBe(true);
  await screenshots(page, "order-confirmed");
  await page.close();
});

test("the challenge counts down to its expiry, gives a new picture on request, and a text question that buys", async () => {
  const { page, challengeId } = await buyToChallenge("/sales/bt-text");
  await page.locator("#challenge-expiry", { hasText: /expires in 0[12]:\d\d/ }).waitFor();
  const expiryText = () => page.locator("#challenge-expiry").innerText();
  const before = await expiryText();
  await page.locator("#challenge-expiry").filter({ hasNotText: before }).waitFor();
  expect(await expiryText()).toMatch(/^This picture expires in 0[12]:\d\d\.$/);
  expect((await expiryText()) < before).toBe(true);

  const firstSrc = await page.locator("#challenge-image").getAttribute("src");
  const renewed = nextChallenge(page);
  await page.locator("#challenge-new").click();
  const second = await renewed;
  expect(second.challengeId).not.toBe(challengeId);
  await waitFor("the new picture shown", async () => (await page.locator("#challenge-image").getAttribute("src")) !== firstSrc);
  expect(await imageLoaded(page, "#challenge-image")).toBe(true);

  // For a shopper who cannot use the picture: a text question, read out first.
  const asked = nextChallenge(page);
  await page.locator("#challenge-switch").click();
  const text = await asked;
  expect(text.kind).toBe("text");
  await page.locator("#challenge-question:visible").waitFor();
  expect(await focusedId(page)).toBe("challenge-question");
  expect(await page.locator("#challenge-picture").isHidden()).toBe(true);
  const question = await page.locator("#challenge-question").innerText();
  expect(question).toBe(text.question);
  expect(await page.locator("#challenge-expiry").innerText()).toMatch(/^This question expires in/);
  await screenshots(page, "challenge-text");
  // Answered at once, as a quick reader would: the page sends it when the question's delay is over.
  const answer = solveChallenge(text.challengeId, "bt-text", SHOPPER);
  expect(question.replace(/\D/g, "")).toContain(answer);
  await page.locator("#challenge-answer").fill(answer);
  const sent = page.waitForResponse((r) => r.url().endsWith("/purchase"));
  await page.locator("#confirm").click();
  expect((await sent).status()).toBe(202);
  await page.waitForURL(/\/orders\/bt-text\.\d+\.\d+$/);
  await page.close();
});

test("a wrong answer is refused, with a new picture to try again, and nothing is sold", async () => {
  const { page, challengeId } = await buyToChallenge("/sales/bt-wrong");
  await page.locator("#challenge").waitFor();
  const refused = page.waitForResponse((r) => r.url().endsWith("/purchase"));
  const second = nextChallenge(page);
  await page.locator("#challenge-answer").fill(wrongAnswer(solveChallenge(challengeId, "bt-wrong", SHOPPER)));
  await page.locator("#confirm").click();
  const res = await refused;
  expect(res.status()).toBe(403);
  expect(((await res.json()) as { error: string }).error).toBe("challenge_failed");
  expect((await second).challengeId).not.toBe(challengeId);
  await page.locator("#message").filter({ hasText: /wrong/ }).waitFor();
  expect(page.url()).toBe(`${stack.gateway.url}/sales/bt-wrong`);
  expect(await page.locator("#challenge-answer").inputValue()).toBe("");
  await screenshots(page, "challenge-refused");
  await page.close();
});

test("a shopper who already holds the limit hears so before any challenge (409), with a link to their order", async () => {
  const page = await open("/sales/bt-challenge");
  await page.locator("#buy:enabled").waitFor();
  const refused = nextChallenge(page, 409);
  await page.locator("#buy").click();
  await refused;
  await page.locator("#message", { hasText: "You already have the most units this sale allows per shopper." }).waitFor();
  const link = page.locator("#order-link-anchor");
  await link.waitFor();
  expect(await link.innerText()).toBe("See your order");
  expect(await link.getAttribute("href")).toBe(`/orders/${challengeOrderId}`);
  expect(await page.locator("#challenge").isHidden()).toBe(true);
  expect(await page.locator("#buy").isDisabled()).toBe(true);
  await screenshots(page, "limit-reached");
  await link.click();
  await page.waitForURL(new RegExp(`/orders/${challengeOrderId.replace(/\./g, "\\.")}$`));
  await page.waitForSelector("body[data-order-status=confirmed]");
  await page.close();
});

test("an order that is not among the shopper's: said so, without the order's empty labels", async () => {
  const page = await open(`/orders/${challengeOrderId.replace(/\.\d+$/, ".999999")}`);
  await page.locator("#order-title", { hasText: "Order not found" }).waitFor();
  expect(await page.locator("#order-status").innerText()).toMatch(/^There is no such order among yours\./);
  expect(await page.locator("#order-details").isHidden()).toBe(true);
  expect(await page.locator("main").innerText()).not.toMatch(/Sale|Price|Quantity/);
  await screenshots(page, "order-not-found");
  await page.close();
});

test("My orders: a new shopper's two purchases in two sales, newest first, with names, prices and statuses", async () => {
  await browser.context.clearCookies();
  const a = await open("/sales/bt-two-a");
  await a.locator("#login-name").waitFor();
  await a.locator("#login-name").fill("mug-collector");
  await a.locator("#login-name").press("Enter");
  await a.locator("#whoami", { hasText: "mug-collector" }).waitFor();
  await a.locator("#buy").click();
  await a.waitForURL(/\/orders\/bt-two-a\./);
  await a.close();
  const b = await open("/sales/bt-two-b");
  await b.locator("#buy:enabled").waitFor();
  expect(await b.locator("#login").isHidden()).toBe(true);
  await b.locator("#buy").click();
  await b.waitForURL(/\/orders\/bt-two-b\./);
  await b.close();

  const page = await open("/orders");
  await page.locator("#orders li").nth(1).waitFor();
  const ids = await page.locator("#orders li").evaluateAll((lis) => lis.map((li) => (li as unknown as { dataset: { orderId: string } }).dataset.orderId));
  // Counted against Redis: the shopper's index names exactly these, and nobody else's order is here.
  expect(ids).toEqual([...(await redisOrderIds("bt-two-b", "mug-collector")), ...(await redisOrderIds("bt-two-a", "mug-collector"))]);
  expect(ids).toHaveLength(2);
  const items = await page.locator("#orders li").allInnerTexts();
  expect(items[0]).toMatch(/^Green mug\n+\$9\.00\n+(Pending|Confirmed)[^\n]*\n+Ordered .+ UTC · order bt-two-b\./);
  expect(items[1]).toMatch(/^Blue mug\n+\$8\.00\n+(Pending|Confirmed)/);
  expect(await page.locator("#orders-status").innerText()).toBe("2 orders, newest first.");
  expect(await page.locator("#whoami").innerText()).toBe("Logged in as mug-collector.");
  expect(await fitsWidth(page)).toBe(true);
  await screenshots(page, "my-orders");
  await page.locator("#orders a", { hasText: "Green mug" }).click();
  await page.waitForURL(new RegExp(`/orders/${ids[0]!.replace(/\./g, "\\.")}$`));
  await page.close();

  // Back to the shopper of the other tests.
  await browser.context.clearCookies();
  const login = await open("/sales/bt-reserve");
  await login.locator("#login-name").fill(SHOPPER);
  await login.locator("#login-name").press("Enter");
  await login.locator("#whoami", { hasText: SHOPPER }).waitFor();
  await login.close();
});

test("a limit of two: told before the click, a quantity to choose, and asking for 2 while holding 1 says 1 more may be bought", async () => {
  expect((await purchase(stack.gateway.url, "bt-pair", signToken(SHOPPER))).status).toBe(202);
  const page = await open("/sales/bt-pair");
  await page.locator("#buy:enabled").waitFor();
  expect(await page.locator("#sale-terms").innerText()).toBe("Up to 2 per shopper.");
  expect(await page.locator("#quantity").getAttribute("max")).toBe("2");
  await page.locator("#quantity").fill("2");
  const refused = page.waitForResponse((r) => r.url().endsWith("/purchase"));
  await page.locator("#buy").click();
  expect((await refused).status()).toBe(409);
  const message = page.locator("#message");
  await message.filter({ hasText: "more" }).waitFor();
  expect(await message.innerText()).toBe("You hold 1 of the 2 allowed per shopper: you may buy 1 more.");
  expect(await page.locator("#quantity").inputValue()).toBe("1");
  expect(await page.locator("#buy").isEnabled()).toBe(true);
  await screenshots(page, "limit-one-more");
  await page.locator("#buy").click();
  await page.waitForURL(/\/orders\/bt-pair\.\d+\.\d+$/);
  await page.waitForSelector("body[data-order-status]");
  expect(await page.locator("#order-quantity").innerText()).toBe("1");
  await page.close();
});

test("a sale that sells out while the page is open shows sold out by itself, without a click", async () => {
  const page = await open("/sales/bt-soldout");
  await page.setViewportSize(PHONE);
  await page.locator("#buy:enabled").waitFor();
  expect(await page.locator("#sale-price").innerText()).toMatch(/€19\.99/);
  expect((await purchase(stack.gateway.url, "bt-soldout", signToken("someone-faster"))).status).toBe(202);

  await page.waitForSelector("body[data-phase=sold_out]", { timeout: 10000 });
  expect(await page.locator("#buy").isDisabled()).toBe(true);
  expect(await page.locator("#buy").innerText()).toBe("Sold out");
  expect(await page.locator("#status").innerText()).toMatch(/Sold out/);
  // Not "1 of 1 left" beside it.
  expect(await page.locator("#stock").innerText()).toBe("All 1 sold");
  expect(await fitsWidth(page)).toBe(true);
  await screenshots(page, "sold-out");
  await page.close();
});

test("a paused sale says so without promising when it resumes", async () => {
  await stack.controlPlane.createSale({ id: "bt-paused", name: "Paused pot", price: 1200, stock: 3, limits });
  expect((await stack.controlPlane.admin("POST", "/admin/api/sales/bt-paused/pause")).status).toBe(200);
  await waitForSale(stack.gateway, "bt-paused");
  const page = await open("/sales/bt-paused");
  await page.waitForSelector("body[data-phase=paused]", { timeout: 10000 });
  expect(await page.locator("#buy").isDisabled()).toBe(true);
  expect(await page.locator("#status").innerText()).toBe("The sale is paused by the shop. This page goes on by itself if it resumes.");
  await page.close();
});

test("a reserved order shows its sale, price and a live countdown to pay-by until paid, then shows it paid", async () => {
  const page = await open("/sales/bt-reserve");
  await page.locator("#buy:enabled").waitFor();
  await page.locator("#buy").click();
  await page.waitForURL(/\/orders\/bt-reserve\.\d+\.\d+$/);
  await page.locator("#order-pay").waitFor();
  expect(await page.locator("#order-status").innerText()).toMatch(/Reserved/);
  expect(await page.locator("#order-details").innerText()).toMatch(/Reserved kettle[\s\S]*\$35\.00[\s\S]*1/);
  expect(await page.locator("#order-payment").innerText()).toMatch(/Pay by .+ UTC, or the unit goes back/);
  const left = page.locator("#order-pay-left");
  await left.filter({ hasText: /^(09:5\d|10:00) left$/ }).waitFor();
  const first = await left.innerText();
  await left.filter({ hasNotText: first }).waitFor();
  expect((await left.innerText()) < first).toBe(true);
  await screenshots(page, "order-awaiting-payment");
  await page.locator("#order-pay").click();
  await page.waitForSelector("body[data-order-status=paid]", { timeout: 10000 });
  expect(await page.locator("#order-status").innerText()).toMatch(/Paid/);
  expect(await page.locator("#order-payment").isHidden()).toBe(true);
  await page.close();
});

test("a purchase whose answer is lost after the order was taken: the page finds the order in the shopper's orders and goes to it", async () => {
  const page = await open("/sales/bt-lost");
  await page.locator("#buy:enabled").waitFor();
  // The gateway takes the order; the connection is then cut before the page reads the 202.
  let taken: string | undefined;
  await page.route("**/purchase", async (route) => {
    const real = await route.fetch();
    taken = ((await real.json()) as { orderId: string }).orderId;
    await route.abort("connectionreset");
  });
  await page.locator("#buy").click();
  await page.locator("#message", { hasText: "We could not confirm your order: it may have been taken. Looking in your orders…" }).waitFor();
  await page.waitForURL(/\/orders\/bt-lost\.\d+\.\d+$/);
  expect(page.url()).toBe(`${stack.gateway.url}/orders/${taken}`);
  await page.close();
});

test("a 503 saying the order may have been taken, with none in the orders: never 'nothing was sold', the orders linked, the button back", async () => {
  const page = await open("/sales/bt-uncertain");
  await page.locator("#buy:enabled").waitFor();
  let sent = 0;
  await page.route("**/purchase", (route) => {
    sent++;
    return route.fulfill({
      status: 503,
      headers: { "Retry-After": "2", "Content-Type": "application/json" },
      body: '{"error":"unavailable","message":"Redis did not answer: your order may have been taken. Check your orders before you retry.","retryAfter":2,"orderMayExist":true}',
    });
  });
  await page.locator("#buy").click();
  const message = page.locator("#message");
  await message.filter({ hasText: "Looking in your orders" }).waitFor();
  expect(await page.locator("#buy").isDisabled()).toBe(true);
  await message.filter({ hasText: "No new order of yours shows in this sale" }).waitFor({ timeout: 15_000 });
  expect(await message.innerText()).toBe("No new order of yours shows in this sale, so it was probably not taken. Check your orders before you try again.");
  expect(await page.locator("#order-link-anchor").innerText()).toBe("See your orders");
  expect(await page.locator("#buy").isEnabled()).toBe(true);
  expect(sent).toBe(1);
  await screenshots(page, "order-uncertain");
  await page.close();
});

test("the API unreachable: the page says so, shows no buy button, tries again, and recovers by itself", async () => {
  const page = await browser.newPage();
  let cut = 0;
  await page.route("**/api/**", (route) => {
    cut++;
    return route.abort("connectionrefused");
  });
  await page.goto(`${stack.gateway.url}/sales/bt-two-a`);
  await page.waitForSelector("body[data-phase=unreachable]", { timeout: 10000 });
  expect(await page.locator("#unreachable-text").innerText()).toMatch(/^We cannot reach the shop right now\. Trying again in \d+ s…$/);
  expect(await page.locator("#buy").isHidden()).toBe(true);
  expect(await page.locator("#sale-name").innerText()).not.toMatch(/No such sale/);
  await screenshots(page, "unreachable");
  // Tries again by itself (backing off), and at once on request.
  const triedBefore = cut;
  await page.locator("#unreachable-text").filter({ hasText: /Trying again in [2-9]/ }).waitFor({ timeout: 10000 });
  expect(cut).toBeGreaterThan(triedBefore);
  await page.unroute("**/api/**");
  await page.locator("#retry-now").click();
  await page.waitForSelector("body[data-phase=active]", { timeout: 10000 });
  expect(await page.locator("#buy").isEnabled()).toBe(true);
  expect(await page.locator("#unreachable").isHidden()).toBe(true);
  expect(await page.locator("#sale-name").innerText()).toBe("Blue mug");

  // A 503 on the purchase: said once, in the page's words, not doubled with the server's "retry later".
  await page.route("**/purchase", (route) =>
    route.fulfill({ status: 503, headers: { "Retry-After": "2", "Content-Type": "application/json" }, body: '{"error":"unavailable","message":"The service is unavailable; nothing was sold. Retry later."}' }),
  );
  await page.locator("#buy").click();
  const message = page.locator("#message");
  await message.filter({ hasText: /nothing was sold/ }).waitFor();
  expect(await message.innerText()).toBe("The shop cannot take orders right now; nothing was sold. Try again in 2 s.");
  expect(await page.locator("#buy").isDisabled()).toBe(true);
  // The wait over: the explanation stays, the hint beside it.
  await message.filter({ hasText: "You can try again now." }).waitFor({ timeout: 5000 });
  expect(await message.innerText()).toBe("The shop cannot take orders right now; nothing was sold. You can try again now.");
  expect(await page.locator("#buy").isEnabled()).toBe(true);
  await page.close();
});

test("log out: the button beside the name clears the session, and the page offers the login again", async () => {
  const page = await open("/orders");
  await page.locator("#whoami", { hasText: `Logged in as ${SHOPPER}.` }).waitFor();
  await page.locator("#logout").click();
  await page.locator("#login-name").waitFor();
  expect(await page.locator("#whoami").isHidden()).toBe(true);
  expect(await page.locator("#logout").isHidden()).toBe(true);
  expect((await browser.context.cookies()).filter((c) => c.name === "fs_token")).toEqual([]);
  await screenshots(page, "logged-out");
  await page.close();
});

test("a gateway that never reached Redis: the page says the shop is not answering, not 'no such sale', and keeps trying; without the demo login, it links the shop's login", async () => {
  const lost = await Gateway.start({ redisUrl: `redis://127.0.0.1:${await freePort()}/0`, knobs: LOAD_TEST_KNOBS });
  origins.push(lost.url);
  // Cookies do not tell ports apart: log out, so that this gateway sees a stranger.
  await browser.context.clearCookies();
  try {
    const page = await open("/sales/bt-two-a", lost.url);
    let reads = 0;
    page.on("request", (r) => {
      if (r.url().endsWith("/api/sales/bt-two-a")) reads++;
    });
    await page.waitForSelector("body[data-phase=unreachable]", { timeout: 10000 });
    expect(await page.locator("#unreachable-text").innerText()).toMatch(/^The shop is not answering properly right now\. Trying again in \d+ s…$/);
    expect(await page.locator("#buy").isHidden()).toBe(true);
    await page.locator("#unreachable-text").filter({ hasText: /Trying again in [4-9]/ }).waitFor({ timeout: 15000 });
    expect(reads).toBeGreaterThanOrEqual(2);
    // The session needs no Redis: the login is offered, as a link (dev_login is off on this gateway).
    const link = page.locator("#login-link");
    await link.waitFor();
    expect(await link.innerText()).toBe("Log in on the shop's site");
    expect(await link.getAttribute("href")).toBe(`https://shop.example/login?return=${encodeURIComponent(`${lost.url}/sales/bt-two-a`)}`);
    expect(await page.locator("#login-form").isHidden()).toBe(true);
    await screenshots(page, "unreachable-shop-login");
    await page.close();
  } finally {
    await lost.stop();
  }
});

test("an unknown sale: said so, with no buy button", async () => {
  const page = await open("/sales/no-such-sale");
  await page.waitForSelector("body[data-phase=missing]");
  expect(await page.locator("#sale-name").innerText()).toBe("No such sale");
  expect(await page.locator("#buy").isHidden()).toBe(true);
  expect(await page.title()).toBe("No such sale — Flash sale");
  await screenshots(page, "unknown-sale");
  await page.close();
});

test("a 404 page for an unknown address and for what cannot be an order id; the API keeps its JSON", async () => {
  const page = await browser.newPage();
  for (const path of ["/no/such/page", "/orders/not-an-order", "/sales/Bad_Id"]) {
    const res = await page.goto(`${stack.gateway.url}${path}`);
    expect({ path, status: res!.status(), type: res!.headers()["content-type"] }).toEqual({ path, status: 404, type: "text/html" });
    expect(await page.locator("h1").innerText()).toBe("Page not found");
  }
  expect(await page.locator("main a").evaluateAll((as) => as.map((a) => a.getAttribute("href")))).toEqual(["/", "/orders"]);
  await screenshots(page, "not-found");
  const api = await page.goto(`${stack.gateway.url}/api/no-such-route`);
  expect([api!.status(), api!.headers()["content-type"], ((await api!.json()) as { error: string }).error]).toEqual([404, "application/json", "not_found"]);
  await page.close();
});

test("the pages asked nothing of any origin but the gateways'", () => {
  const elsewhere = browser.requested.filter((u) => !origins.some((o) => u.startsWith(`${o}/`)) && !u.startsWith("data:"));
  expect(browser.requested.length).toBeGreaterThan(10);
  expect(elsewhere).toEqual([]);
});

test("every sale counts: one unit each to the shoppers who got through, none on the wrong answer", async () => {
  const expected: Record<string, [sold: number, total: number]> = {
    "bt-countdown": [1, 3],
    "bt-challenge": [1, 3],
    "bt-text": [1, 3],
    "bt-wrong": [0, 3],
    "bt-soldout": [1, 1],
    "bt-reserve": [1, 3],
    "bt-lost": [1, 3],
    "bt-uncertain": [0, 3],
    "bt-two-a": [1, 3],
    "bt-two-b": [1, 3],
    "bt-twin-2": [0, 4],
  };
  for (const [saleId, [sold, total]] of Object.entries(expected)) {
    await waitForRows(stack.db.pool, saleId, sold);
    const count = await countSale(stack.redis, stack.db.pool, saleId);
    expect({ saleId, ...count }).toEqual({ saleId, ...balancedCount(sold, total - sold) });
  }
  // Two units, one order each, to one shopper (a limit of two).
  await waitForRows(stack.db.pool, "bt-pair", 2);
  expect(await countSale(stack.redis, stack.db.pool, "bt-pair")).toEqual({ ...balancedCount(2, 3), buyers: 1, pgDistinctUsers: 1, pgDuplicateUsers: 1 });
  expect(stack.gateway.errorLines()).toEqual([]);
});
