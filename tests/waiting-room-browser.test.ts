/**
 * The product page's waiting room in a real browser (Debian's chromium via playwright-core)
 * against a real gateway, Redis, order worker and Postgres: join before the start (with the
 * demo login), "the order is drawn at the start", then a place, a progress bar and a wait,
 * then the purchase step when admitted; sold out shown at once while waiting; the queue lost
 * with the sale's Redis state and rebuilt, and the page joining again by itself; a pass that
 * expired unused, and the page joining again at the back when asked. Screenshots
 * at desktop and phone width go to test-artifacts/. Every sale is counted at the end.
 */
import { createLogger } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/contract/keys";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { Shopper, sleep } from "./support/queue";
import { adminLogin, Browser, fitsWidth, screenshots } from "./support/browser";
import { waitFor } from "./support/stream-fixtures";
import { keepSalesBuiltJob } from "../control-plane/src/jobs/keep-sales-built";
import { SalePublisher } from "../control-plane/src/projection/publisher";
import { SaleRepository } from "../control-plane/src/store/sale-repository";
import { SaleBuilder } from "../control-plane/src/projection/sale-builder";

jest.setTimeout(90_000);

let browser: Browser;

const limits = { userRatePerSecond: 50, userBurst: 50, admitPerSecond: 100000 };
const QUEUE_SALE = "bw-queue";
const SOLD_OUT_SALE = "bw-soldout";
const REBUILT_SALE = "bw-rebuilt";
const MISSED_SALE = "bw-missed";
let queueStartsAtMs: number;

const stack = useStack(new TestStack({ name: "waiting_room_browser", knobs: { ...LOAD_TEST_KNOBS, dev_login: "on" }, worker: {} }), async () => {
  queueStartsAtMs = Math.ceil(Date.now() / 1000) * 1000 + 15_000;
  const queued = { startsAt: new Date(queueStartsAtMs).toISOString(), endsAt: new Date(queueStartsAtMs + 3_600_000).toISOString() };
  for (const sale of [
    { id: QUEUE_SALE, name: "Queued sneakers", price: 4999, stock: 4, ...queued, waitingRoom: { opensBeforeSeconds: 600, admitPerSecond: 1, passSeconds: 60 } },
    { id: SOLD_OUT_SALE, name: "Last queued lamp", price: 1999, stock: 1, waitingRoom: { opensBeforeSeconds: 0, admitPerSecond: 50, passSeconds: 60 } },
    { id: REBUILT_SALE, name: "Rebuilt queue kettle", price: 2999, stock: 5, waitingRoom: { opensBeforeSeconds: 0, admitPerSecond: 1, passSeconds: 60 } },
    { id: MISSED_SALE, name: "Second chance scarf", price: 999, stock: 5, waitingRoom: { opensBeforeSeconds: 0, admitPerSecond: 50, passSeconds: 2 } },
  ]) {
    await stack.controlPlane.createSale({ ...sale, limits, deduction: "order" });
  }
  for (const id of [QUEUE_SALE, SOLD_OUT_SALE, REBUILT_SALE, MISSED_SALE]) await waitForSale(stack.gateway, id);
  browser = await Browser.launch({ closedWith: stack });
});

test("join before the start (logging in), the draw at the start, then a place, progress and a wait, then buy when admitted", async () => {
  // Three others join before the start as well: the browser's shopper is drawn among four.
  const others = ["bw-other-1", "bw-other-2", "bw-other-3"].map((u) => new Shopper(u, QUEUE_SALE, stack.gateway.url));
  for (const s of others) await s.join();

  const page = await browser.newPage();
  await page.goto(`${stack.gateway.url}/sales/${QUEUE_SALE}`);
  await page.locator("#queue-join:enabled").waitFor();
  expect(await page.locator("#buy").isDisabled()).toBe(true);
  expect(await page.locator("#sale-terms").innerText()).toBe("One per shopper. You join a waiting room first, and buy when it is your turn.");
  expect(await page.locator("#queue-status").getAttribute("aria-live")).toBe("polite");
  await page.locator("#queue-join").click();
  await page.locator("#login-name").waitFor();
  await page.keyboard.type("bw-shopper");
  await page.keyboard.press("Enter");
  await page.waitForSelector("body[data-queue=waiting]");
  expect(await page.locator("#queue-headline").innerText()).toBe("You're in the waiting room.");
  expect(await page.locator("#queue-status").textContent()).toMatch(/drawn at random when the sale starts/);
  expect(await page.locator("#queue-join").isHidden()).toBe(true);
  expect(Date.now()).toBeLessThan(queueStartsAtMs);
  await screenshots(page, "queue-joined");

  // At the start the page learns its place by itself.
  await page.locator("#queue-headline", { hasText: /You are number [1-4] in the queue|It's your turn/ }).waitFor({ timeout: 20_000 });
  // Read together: a poll may change both between two reads.
  const [headline, detail] = await page.evaluate<string[]>('["queue-headline", "queue-detail"].map((id) => document.getElementById(id).textContent)');
  if (!headline!.startsWith("It's your turn")) {
    expect(detail).toMatch(/\d shoppers? ahead of you · (less than a minute|about \d+ \w+) to wait/);
    // One place: the number is those ahead plus one, not the join position.
    expect(Number(/number (\d)/.exec(headline!)![1])).toBe(Number(/^(\d)/.exec(detail!)![1]) + 1);
    expect(await page.locator("#queue-progress").isVisible()).toBe(true);
    const progress = Number(await page.locator("#queue-progress").getAttribute("value"));
    expect(progress).toBeGreaterThanOrEqual(0);
    expect(progress).toBeLessThanOrEqual(1);
    await screenshots(page, "queue-waiting");
  }
  expect(await page.locator("#buy").isDisabled()).toBe(true);

  // Admitted (one per second, four units for four shoppers): the purchase step.
  await page.waitForSelector("body[data-queue=admitted]", { timeout: 15_000 });
  await page.locator("#buy:enabled").waitFor();
  expect(await page.locator("#queue-status").textContent()).toBe("It's your turn. You can buy now.");
  // Seen from another tab too.
  expect(await page.title()).toBe("Your turn to buy: Queued sneakers — Flash sale");
  expect(await page.locator("#queue-detail").innerText()).toMatch(/Your pass is valid for \d\d:\d\d/);
  expect(await fitsWidth(page)).toBe(true);
  await screenshots(page, "queue-admitted");
  await page.locator("#buy").click();
  await page.waitForURL(new RegExp(`/orders/${QUEUE_SALE}\\.\\d+\\.\\d+$`));
  await page.waitForSelector("body[data-order-status=confirmed]", { timeout: 20_000 });
  await page.close();
});

test("sold out while waiting shows at once, without a click", async () => {
  // Another shopper holds the one unit's pass; the browser's shopper waits behind.
  const first = new Shopper("bw-first", SOLD_OUT_SALE, stack.gateway.url);
  await first.join();
  const page = await browser.newPage();
  await page.goto(`${stack.gateway.url}/sales/${SOLD_OUT_SALE}`);
  await page.locator("#queue-join:enabled").click();
  await page.waitForSelector("body[data-queue=waiting]");
  // Joined second, but the first holds a pass: next in line, said one way.
  await page.locator("#queue-headline", { hasText: "You are number 1 in the queue." }).waitFor();
  expect(await page.locator("#queue-detail").innerText()).toMatch(/^0 shoppers ahead of you/);
  expect(await page.locator("#queue-status").textContent()).toBe("You're next in the queue.");
  await sleep(1000); // the first shopper's pass is out: the page keeps waiting
  expect(await page.evaluate<string>("document.body.dataset.queue")).toBe("waiting");

  while ((await first.poll()).status !== "admitted") await sleep(100);
  expect((await first.buy()).status).toBe(202);
  const soldAt = Date.now();
  await page.waitForSelector("body[data-queue=sold_out][data-phase=sold_out]", { timeout: 5000 });
  console.log(`waiting room page: sold out shown ${Date.now() - soldAt} ms after the last unit`);
  expect(await page.locator("#buy").innerText()).toBe("Sold out");
  expect(await page.locator("#buy").isDisabled()).toBe(true);
  expect(await page.locator("#queue-status").textContent()).toBe("Sold out. Every unit has been sold.");
  await screenshots(page, "queue-sold-out");
  await page.close();
});

test("the admin live page shows the waiting room: length, admitted, passes used and expired, the rate and its setting", async () => {
  const page = await browser.newPage();
  await adminLogin(page, stack.controlPlane.url);
  await page.goto(`${stack.controlPlane.url}/admin/sales/${QUEUE_SALE}`);
  await page.locator("#queue-panel").waitFor();
  // Four shoppers, all admitted (four units, one bought).
  await page.locator("#queue-admitted", { hasText: "4" }).waitFor({ timeout: 10_000 });
  expect(await page.locator("#queue-length").innerText()).toBe("4");
  expect(await page.locator("#queue-passes-used").innerText()).toBe("1");
  expect(await page.locator("#queue-passes-expired").innerText()).toBe("0");
  await page.locator("#queue-rate", { hasText: /^\d+\.\d\/s \(setting 1\/s\)$/ }).waitFor();
  await screenshots(page, "admin-live-queue");
  await page.close();
});

test("the queue lost with the sale's Redis state: after the rebuild the page joins again by itself and buys", async () => {
  // Another shopper is ahead (admitted first, one per second): the page waits as number 2.
  const ahead = new Shopper("bw-ahead", REBUILT_SALE, stack.gateway.url);
  await ahead.join();
  const page = await browser.newPage();
  const joins: string[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().endsWith(`/api/sales/${REBUILT_SALE}/queue`)) joins.push(r.url());
  });
  await page.goto(`${stack.gateway.url}/sales/${REBUILT_SALE}`);
  await page.locator("#queue-join:enabled").click();
  await page.locator("#queue-headline", { hasText: /^You are number [12] in the queue\.$/ }).waitFor();
  const ticketBefore = await page.evaluate<string | null>(`sessionStorage.getItem("fs-queue-ticket:${REBUILT_SALE}")`);

  // Every key of the sale gone (as after FLUSHALL, for this sale alone); the builder repairs it.
  await stack.redis.del(...(await stack.redis.keys(`fs:{sale:${REBUILT_SALE}}:*`)));
  const logger = createLogger("waiting-room-browser-test", "silent");
  const repository = new SaleRepository(stack.db.pool);
  const publisher = new SalePublisher(stack.redis, repository, new SaleBuilder(stack.redis, repository, logger));
  await keepSalesBuiltJob({ redis: stack.redis, repository, publisher, logger }, "* * * * * *", 10_000).run();
  expect(await stack.redis.hexists(saleKeys(REBUILT_SALE).meta, "fence")).toBe(1);

  // The page's next poll meets not_in_queue and joins again, without a click: now number 1, admitted.
  await page.waitForSelector("body[data-queue=admitted]", { timeout: 15_000 });
  expect(joins).toHaveLength(2);
  expect(await page.evaluate<string | null>(`sessionStorage.getItem("fs-queue-ticket:${REBUILT_SALE}")`)).not.toBe(ticketBefore);
  expect(await stack.redis.zrange(saleKeys(REBUILT_SALE).queue, 0, -1)).toEqual(["bw-shopper"]);
  // The shopper ahead, with the old queue's ticket, hears the same.
  expect((await ahead.poll().catch((err: Error) => err.message))).toMatch(/404 .*not_in_queue/);
  await page.locator("#buy:enabled").click();
  await page.waitForURL(new RegExp(`/orders/${REBUILT_SALE}\\.\\d+\\.\\d+$`));
  await page.close();
});

test("a pass that expired unused: the page offers to join again at the back, follows the new place and buys", async () => {
  const page = await browser.newPage();
  await page.goto(`${stack.gateway.url}/sales/${MISSED_SALE}`);
  await page.locator("#queue-join:enabled").click();
  await page.waitForSelector("body[data-queue=admitted]");
  const behind = new Shopper("bw-behind", MISSED_SALE, stack.gateway.url);
  await behind.join();

  // The pass runs out unused.
  await page.waitForSelector("body[data-queue=ended]", { timeout: 10_000 });
  expect(await page.locator("#queue-headline").innerText()).toBe("Your turn has passed.");
  const again = page.locator("#queue-join", { hasText: "Join again, at the back of the queue" });
  await again.waitFor();
  // Redis settles the place (the pass's time and its grace) before it lets the shopper join again.
  const k = saleKeys(MISSED_SALE);
  await waitFor("the place settled", async () => Number(await stack.redis.hget(k.queueState, "settled")) >= 1, 10_000);
  await again.click();
  await page.waitForSelector("body[data-queue=admitted]", { timeout: 10_000 });
  expect(await page.locator("#queue-join").isHidden()).toBe(true);
  expect(await stack.redis.zrange(k.queue, 0, -1)).toEqual(["bw-shopper", "bw-behind", "bw-shopper 1"]);
  await page.locator("#buy:enabled").click();
  await page.waitForURL(new RegExp(`/orders/${MISSED_SALE}\\.\\d+\\.\\d+$`));
  await page.close();
});

test("every sale counts: one unit to each shopper who bought", async () => {
  for (const [saleId, sold, total] of [[QUEUE_SALE, 1, 4], [SOLD_OUT_SALE, 1, 1], [REBUILT_SALE, 1, 5], [MISSED_SALE, 1, 5]] as const) {
    await waitForRows(stack.db.pool, saleId, sold);
    expect({ saleId, ...(await countSale(stack.redis, stack.db.pool, saleId)) }).toEqual({ saleId, ...balancedCount(sold, total - sold) });
  }
  expect(stack.gateway.errorLines()).toEqual([]);
});
