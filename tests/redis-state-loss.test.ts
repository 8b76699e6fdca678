/**
 * Redis loses a sale's state after part of it sold: all of the sale's keys deleted, and
 * separately FLUSHALL. The orders sold before were drained to Postgres (undrained orders whose
 * keys are deleted are gone in any durability mode). A second rush runs through the loss and the
 * repair; then the first rush's shoppers retry, and a third rush buys the rest. Counted: no order id reused, every first-rush shopper
 * sees their own order again (the builder restores it from Postgres) and is refused a second
 * unit, the rest of the stock sells (exactly `stock` units), Postgres rows = units sold, and the
 * repair is counted in the control plane's /metrics and audited. And the gateway never forgets a
 * sale Redis lost: while another sale is published before the rebuild, the lost one answers 503
 * (held, nothing sold), never 404, until it is rebuilt; a sale deleted through the admin API,
 * also during the loss, is forgotten (404).
 */
import { saleKeys } from "@flash-sale/contract/keys";
import { parseOrderId } from "@flash-sale/contract/ids";
import { afterConfigSync, LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { countSale, waitForRows } from "./support/counts";
import { purchase, request } from "./support/http";
import { signToken } from "./support/tokens";
import { scrape } from "./support/prometheus";
import { Rush, type Accepted } from "./support/rush";
import { waitFor } from "./support/stream-fixtures";

const STOCK = 200;
/** Under the test sales' per-shopper rate (5 per second). */
const RETRY_PAUSE_MS = 250;

const stack = useStack(new TestStack({ name: "redis_state_loss", knobs: LOAD_TEST_KNOBS, worker: {} }), async () => {
  stack.controlPlane.startJobs();
});

function orderView(orderId: string, user: string) {
  return request(`${stack.gateway.url}/api/orders/${orderId}`, { headers: { Authorization: `Bearer ${signToken(user)}` } });
}

async function repairs(saleId: string): Promise<number> {
  return (await scrape(`${stack.controlPlane.url}/metrics`)).value("fs_control_plane_sale_repairs_total", { sale: saleId, reason: "state_missing" }) ?? 0;
}

/** A shopper of the first rush tries again until the sale is no longer held: refused, limit reached. */
async function buyAgain(saleId: string, user: string): Promise<void> {
  for (;;) {
    const res = await purchase(stack.gateway.url, saleId, signToken(user));
    if (res.status !== 503) {
      expect([user, res.status, res.json().error]).toEqual([user, 409, "limit_reached"]);
      return;
    }
    await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
  }
}

/** The second rush runs through the loss and the repair, and stops once it bought again. */
const SECOND_RUSH_UNITS = 40;

async function loseStateMidSale(saleId: string, lose: () => Promise<unknown>): Promise<void> {
  await stack.controlPlane.createSale({ id: saleId, stock: STOCK });
  await waitForSale(stack.gateway, saleId);
  const repairsBefore = await repairs(saleId);

  // Bounded, not stopped in time: units must be left for the retries below, however fast the machine.
  const first = new Rush(stack.gateway.url, saleId, `${saleId}-first`, 8, { maxAccepted: 80 }).start();
  await first.until("part of the stock sold", () => first.accepted.length >= 80);
  await first.stop();
  const before: Accepted[] = first.accepted;
  await waitForRows(stack.db.pool, saleId, before.length);

  await lose();
  const second = new Rush(stack.gateway.url, saleId, `${saleId}-second`, 2, { maxAccepted: SECOND_RUSH_UNITS }).start();
  await second.until("sales again after the repair", () => second.accepted.length >= SECOND_RUSH_UNITS);
  await second.stop();
  // Held until repaired: 503, never 404.
  expect(second.refused.has(404)).toBe(false);
  // Units are left: a first-rush shopper is refused for the limit, not for the stock.
  await Promise.all(before.map((a) => buyAgain(saleId, a.user)));
  const third = new Rush(stack.gateway.url, saleId, `${saleId}-third`).start();
  await third.finished();
  await waitForRows(stack.db.pool, saleId, STOCK);

  // Every first-rush shopper sees their order again, restored from Postgres.
  for (const a of before) {
    const view = await orderView(a.orderId, a.user);
    expect([view.status, view.json().orderId]).toEqual([200, a.orderId]);
  }
  const after = [...second.accepted, ...third.accepted];
  const all = [...before, ...after];
  expect(all.length).toBe(STOCK);
  expect(new Set(all.map((a) => a.orderId)).size).toBe(STOCK);
  // The rebuild took a new epoch: ids after the loss never repeat one from before.
  const epochsBefore = new Set(before.map((a) => parseOrderId(a.orderId)!.epoch));
  for (const a of after) expect(epochsBefore.has(parseOrderId(a.orderId)!.epoch)).toBe(false);

  const { rows } = await stack.db.pool.query<{ order_id: string; user_id: string }>("SELECT order_id, user_id FROM orders WHERE sale_id = $1", [saleId]);
  expect(new Map(rows.map((r) => [r.order_id, r.user_id]))).toEqual(new Map(all.map((a) => [a.orderId, a.user])));
  expect(await countSale(stack.redis, stack.db.pool, saleId)).toMatchObject({
    unitsLeft: 0, unitsSold: STOCK, buyers: STOCK, unitsGranted: STOCK, redisOrders: STOCK,
    pgRows: STOCK, pgUnits: STOCK, pgDistinctUsers: STOCK, pgDuplicateUsers: 0,
  });
  // Counted and audited.
  await waitFor("the repair counted", async () => (await repairs(saleId)) > repairsBefore);
  const audits = await stack.db.pool.query<{ after: { reason: string; restoredOrders: number } }>(
    "SELECT after FROM sale_audit WHERE sale_id = $1 AND action = 'repair' ORDER BY id", [saleId]);
  expect(audits.rows.map((r) => r.after.reason)).toContain("state_missing");
  expect(audits.rows.find((r) => r.after.reason === "state_missing")!.after.restoredOrders).toBe(before.length);
}

test("all of a sale's keys deleted after part sold → held, rebuilt from Postgres; no id reused, no second unit, the rest sells", async () => {
  const saleId = "keys-deleted";
  await loseStateMidSale(saleId, async () => {
    const keys = await stack.redis.keys(`fs:{sale:${saleId}}:*`);
    const k = saleKeys(saleId);
    expect(keys).toEqual(expect.arrayContaining([k.meta, k.stock, k.sold, k.buyers, k.orderSeq, k.orders, k.stream]));
    await stack.redis.del(...keys);
  });
});

test("FLUSHALL after part sold → held, rebuilt and published again; no id reused, no second unit, the rest sells", async () => {
  await loseStateMidSale("flushed", () => stack.redis.flushall());
});

/** Scheduled an hour from now, so that it may be deleted. */
function upcoming(id: string) {
  const now = Date.now();
  return { id, stock: 10, startsAt: new Date(now + 3_600_000).toISOString(), endsAt: new Date(now + 7_200_000).toISOString() };
}

async function saleViewStatus(saleId: string): Promise<number> {
  return (await request(`${stack.gateway.url}/api/sales/${saleId}`)).status;
}

test("a sale deleted through the admin API is forgotten by the gateway (404)", async () => {
  await stack.controlPlane.createSale(upcoming("withdrawn"));
  await waitForSale(stack.gateway, "withdrawn");
  expect((await stack.controlPlane.admin("DELETE", "/admin/api/sales/withdrawn")).status).toBe(204);
  await waitFor("the deleted sale forgotten", async () => (await saleViewStatus("withdrawn")) === 404);
  const res = await purchase(stack.gateway.url, "withdrawn", signToken("withdrawn-shopper"));
  expect([res.status, res.json().error]).toEqual([404, "sale_not_found"]);
});

test("FLUSHALL, then another sale published before the rebuild: the live sale answers 503 (never 404) until it is rebuilt; a sale deleted meanwhile 404s", async () => {
  const saleId = "never-forgotten";
  await stack.controlPlane.createSale({ id: saleId, stock: STOCK });
  await stack.controlPlane.createSale(upcoming("deleted-while-lost"));
  await waitForSale(stack.gateway, saleId);
  await waitForSale(stack.gateway, "deleted-while-lost");
  const first = new Rush(stack.gateway.url, saleId, `${saleId}-first`, 4, { maxAccepted: 40 }).start();
  await first.until("part of the stock sold", () => first.accepted.length >= 40);
  await first.stop();
  await waitForRows(stack.db.pool, saleId, first.accepted.length);

  // Nothing rebuilds the sale until the jobs run again.
  await stack.controlPlane.stopJobs();
  await stack.redis.flushall();
  const second = new Rush(stack.gateway.url, saleId, `${saleId}-second`, 2, { maxAccepted: SECOND_RUSH_UNITS }).start();
  try {
    // A new config counter: its first version is below the one the gateway knew, and it has one sale only.
    await stack.controlPlane.createSale({ id: "published-after-loss", stock: 10 });
    await waitForSale(stack.gateway, "published-after-loss");
    await afterConfigSync();
    const held = await purchase(stack.gateway.url, saleId, signToken(`${saleId}-probe`));
    expect([held.status, held.headers["retry-after"], held.json().error, held.json().orderMayExist]).toEqual([503, "2", "unavailable", undefined]);
    expect(await saleViewStatus(saleId)).toBe(503);

    // A withdrawal during the loss is told apart from the loss.
    expect((await stack.controlPlane.admin("DELETE", "/admin/api/sales/deleted-while-lost")).status).toBe(204);
    await waitFor("the deleted sale forgotten", async () => (await saleViewStatus("deleted-while-lost")) === 404);
    expect(await saleViewStatus(saleId)).toBe(503);
    expect(second.accepted).toEqual([]);
  } catch (err) {
    await second.stop();
    throw err;
  } finally {
    stack.controlPlane.startJobs();
  }
  await second.until("sales again after the rebuild", () => second.accepted.length >= SECOND_RUSH_UNITS);
  await second.stop();

  // Only 503s before the rebuild: no 404 at any moment, nothing that may have sold.
  expect([...second.refused.keys()]).toEqual([503]);
  expect([second.maybeTaken.size, second.dropped.size]).toEqual([0, 0]);
  const gatewayMetrics = await scrape(stack.gateway.metricsUrl);
  expect(gatewayMetrics.value("fs_gateway_requests_total", { route: "purchase", sale: saleId, outcome: "held" })).toBeGreaterThan(0);
  // Every 202 kept, each order id once, and no order without one.
  const all = [...first.accepted, ...second.accepted];
  expect(new Set(all.map((a) => a.orderId)).size).toBe(all.length);
  await waitForRows(stack.db.pool, saleId, all.length);
  const { rows } = await stack.db.pool.query<{ order_id: string; user_id: string }>("SELECT order_id, user_id FROM orders WHERE sale_id = $1", [saleId]);
  expect(new Map(rows.map((r) => [r.order_id, r.user_id]))).toEqual(new Map(all.map((a) => [a.orderId, a.user])));
});
