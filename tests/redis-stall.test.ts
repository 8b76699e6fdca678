/**
 * Redis stalls mid-rush (SIGSTOP, as a frozen host or a long disk stall does) for longer than
 * the gateway's redis_timeout_ms, then goes on (SIGCONT), counted Jepsen-style.
 *
 * While it is frozen the kernel still completes connects and buffers what clients send, so:
 * a purchase whose script went out on a pooled connection is answered 503 "may have been
 * taken" after the timeout, and its script runs when Redis goes on (a real order without a
 * 202); one that needed a fresh connection times out on its INFO before the script and is
 * answered 503 with nothing sold. Every request is answered within a bounded time, never held
 * for the stall. Afterwards the sale sells on without a rebuild (a stall loses no state), and
 * the count holds: every 202 survives, no id twice, every order without a 202 is a shopper's
 * told "may have been taken", exactly the stock sold once per shopper.
 */
import { saleKeys } from "@flash-sale/gateway-lua/core/keys";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { countSale, waitForRows } from "./support/counts";
import { orderIdsOf } from "./support/http";
import { scrape } from "./support/prometheus";
import { signToken } from "./support/tokens";
import { Rush } from "./support/rush";

const STOCK = 2000;
/** Paced so the stall comes mid-rush on a machine of any speed: the stock would last 5 s unstalled. */
const RUSH_PER_SECOND = 400;
/** Eight times the shipped redis_timeout_ms (500). */
const STALL_MS = 4000;
/** The longest any purchase may wait: the timeout and a connect, with room for a loaded machine; far below the stall. */
const ANSWER_BOUND_MS = 2000;

let stack: TestStack | undefined;

afterAll(async () => {
  expect(await stack?.stop()).toEqual({ code: 0, signal: null });
});

test("Redis frozen mid-rush past the gateway's timeout, then thawed: answered within the bound, no rebuild, every 202 kept, nothing sold untold", async () => {
  stack = await TestStack.start({ name: "redis_stall", knobs: LOAD_TEST_KNOBS, persistentRedis: true, worker: {} });
  const { redisServer, redis, db, controlPlane, gateway } = stack;
  controlPlane.startJobs();
  const sale = await controlPlane.createSale({ id: "stall", stock: STOCK });
  await waitForSale(gateway, sale.id);
  const fenceBefore = await redis.hget(saleKeys(sale.id).meta, "fence");
  const rowCount = async () => Number((await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM orders WHERE sale_id = $1", [sale.id])).rows[0]!.n);

  const rush = new Rush(gateway.url, sale.id, "shopper", 8, { perSecond: RUSH_PER_SECOND }).start();
  await rush.until("a first part sold and drained", async () => rush.accepted.length >= 200 && (await rowCount()) >= 50);

  redisServer.freeze();
  const frozenAt = Date.now();
  const acceptedAtFreeze = rush.accepted.length;
  await new Promise((r) => setTimeout(r, STALL_MS));
  // 202s that arrived during the stall were answered before it (in flight at the SIGSTOP).
  const acceptedDuringStall = rush.accepted.filter((a) => a.at > frozenAt + ANSWER_BOUND_MS).length;
  const refusedDuringStall = [...rush.refused.values()].reduce((a, b) => a + b, 0);
  redisServer.thaw();

  const acceptedAtThaw = rush.accepted.length;
  await rush.until("selling again after the thaw", () => rush.accepted.length >= acceptedAtThaw + 100, 15_000);
  await rush.finished();

  // Bounded answers: none waited out the stall, none was dropped, and every refusal was a 503.
  expect(acceptedDuringStall).toBe(0);
  expect(rush.accepted.length).toBeGreaterThan(acceptedAtFreeze);
  expect(refusedDuringStall).toBeGreaterThan(0);
  expect(rush.slowestMs).toBeLessThan(ANSWER_BOUND_MS);
  expect([...rush.refused.keys()]).toEqual([503]);
  // The purchases in flight on pooled connections were told the truth: taken, maybe.
  expect(rush.maybeTaken.size).toBeGreaterThan(0);
  const metrics = await scrape(gateway.metricsUrl);
  expect(metrics.sum("fs_gateway_requests_total", { route: "purchase", sale: sale.id, outcome: "unknown" })).toBe(rush.maybeTaken.size);

  // A stall loses no state: the sale was not held or rebuilt.
  expect(await redis.hget(saleKeys(sale.id).meta, "fence")).toBe(fenceBefore);
  const repairs = await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM sale_audit WHERE sale_id = $1 AND action = 'repair'", [sale.id]);
  expect(Number(repairs.rows[0]!.n)).toBe(0);

  await waitForRows(db.pool, sale.id, STOCK, 30_000);
  const count = await countSale(redis, db.pool, sale.id);
  expect(count).toMatchObject({ unitsLeft: 0, unitsSold: STOCK, unitsGranted: STOCK, buyers: STOCK, redisOrders: STOCK, pgRows: STOCK, pgUnits: STOCK, pgDistinctUsers: STOCK, pgDuplicateUsers: 0 });

  const { rows } = await db.pool.query<{ order_id: string; user_id: string }>("SELECT order_id, user_id FROM orders WHERE sale_id = $1", [sale.id]);
  const owners = new Map(rows.map((r) => [r.order_id, r.user_id]));
  // Every 202 survives, as its shopper's, and no id was handed out twice.
  expect(new Set(rush.accepted.map((a) => a.orderId)).size).toBe(rush.accepted.length);
  for (const a of rush.accepted) expect([a.orderId, owners.get(a.orderId)]).toEqual([a.orderId, a.user]);
  // Every order without a 202 is a shopper's told "may have been taken"; none of a shopper told nothing was sold.
  const answered = new Set(rush.accepted.map((a) => a.orderId));
  const untold = rows.filter((r) => !answered.has(r.order_id));
  for (const r of untold) expect([r.user_id, rush.maybeTaken.has(r.user_id)]).toEqual([r.user_id, true]);
  expect(untold.length).toBe(STOCK - rush.accepted.length);
  expect(untold.length).toBeGreaterThan(0);
  // The scripts that ran at the thaw: their shoppers find the order where the 503 said to look.
  for (const r of untold) expect([r.user_id, await orderIdsOf(gateway.url, signToken(r.user_id))]).toEqual([r.user_id, [r.order_id]]);
  console.log(
    `stall of ${STALL_MS} ms: ${rush.accepted.length} 202s; ${rush.maybeTaken.size} told "may have been taken", ${untold.length} of them with an order; ` +
      `${refusedDuringStall} refusals during the stall; slowest answer ${rush.slowestMs} ms`,
  );
}, 120_000);
