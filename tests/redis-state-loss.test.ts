/**
 * Redis loses a sale's state after part of it sold: all of the sale's keys deleted, and
 * separately FLUSHALL. The orders sold before were drained to Postgres (undrained orders whose
 * keys are deleted are gone in any durability mode). A second rush runs through the loss and the
 * repair; then the first rush's shoppers retry, and a third rush buys the rest. Counted: no order id reused, every first-rush shopper
 * sees their own order again (the builder restores it from Postgres) and is refused a second
 * unit, the rest of the stock sells (exactly `stock` units), Postgres rows = units sold, and the
 * repair is counted in the control plane's /metrics and audited.
 */
import type { Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/gateway-lua/core/keys";
import { parseOrderId } from "@flash-sale/gateway-lua/core/ids";
import { LOAD_TEST_KNOBS, waitForSale, type Gateway } from "./support/gateway";
import type { TestDatabase } from "./support/test-database";
import type { ControlPlane } from "./support/control-plane";
import { TestStack } from "./support/test-stack";
import { countSale, waitForRows } from "./support/counts";
import { purchase, request } from "./support/http";
import { signToken } from "./support/tokens";
import { scrape } from "./support/prometheus";
import { Rush, type Accepted } from "./support/rush";
import { waitFor } from "./support/stream-fixtures";

const STOCK = 200;
/** Under the test sales' per-shopper rate (5 per second). */
const RETRY_PAUSE_MS = 250;

let stack: TestStack;
let redis: Redis;
let db: TestDatabase;
let controlPlane: ControlPlane;
let gateway: Gateway;

beforeAll(async () => {
  stack = await TestStack.start({ name: "redis_state_loss", knobs: LOAD_TEST_KNOBS, worker: {} });
  ({ redis, db, controlPlane, gateway } = stack);
  controlPlane.startJobs();
});

afterAll(async () => {
  expect(await stack?.stop()).toEqual({ code: 0, signal: null });
});

function orderView(orderId: string, user: string) {
  return request(`${gateway.url}/api/orders/${orderId}`, { headers: { Authorization: `Bearer ${signToken(user)}` } });
}

async function repairs(saleId: string): Promise<number> {
  return (await scrape(`${controlPlane.url}/metrics`)).value("fs_control_plane_sale_repairs_total", { sale: saleId, reason: "state_missing" }) ?? 0;
}

/** A shopper of the first rush tries again until the sale is no longer held: refused, limit reached. */
async function buyAgain(saleId: string, user: string): Promise<void> {
  for (;;) {
    const res = await purchase(gateway.url, saleId, signToken(user));
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
  await controlPlane.createSale({ id: saleId, stock: STOCK });
  await waitForSale(gateway, saleId);
  const repairsBefore = await repairs(saleId);

  // Bounded, not stopped in time: units must be left for the retries below, however fast the machine.
  const first = new Rush(gateway.url, saleId, `${saleId}-first`, 8, { maxAccepted: 80 }).start();
  await first.until("part of the stock sold", () => first.accepted.length >= 80);
  await first.stop();
  const before: Accepted[] = first.accepted;
  await waitForRows(db.pool, saleId, before.length);

  await lose();
  const second = new Rush(gateway.url, saleId, `${saleId}-second`, 2, { maxAccepted: SECOND_RUSH_UNITS }).start();
  await second.until("sales again after the repair", () => second.accepted.length >= SECOND_RUSH_UNITS);
  await second.stop();
  // Units are left: a first-rush shopper is refused for the limit, not for the stock.
  await Promise.all(before.map((a) => buyAgain(saleId, a.user)));
  const third = new Rush(gateway.url, saleId, `${saleId}-third`).start();
  await third.finished();
  await waitForRows(db.pool, saleId, STOCK);

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

  const { rows } = await db.pool.query<{ order_id: string; user_id: string }>("SELECT order_id, user_id FROM orders WHERE sale_id = $1", [saleId]);
  expect(new Map(rows.map((r) => [r.order_id, r.user_id]))).toEqual(new Map(all.map((a) => [a.orderId, a.user])));
  expect(await countSale(redis, db.pool, saleId)).toMatchObject({
    unitsLeft: 0, unitsSold: STOCK, buyers: STOCK, unitsGranted: STOCK, redisOrders: STOCK,
    pgRows: STOCK, pgUnits: STOCK, pgDistinctUsers: STOCK, pgDuplicateUsers: 0,
  });
  // Counted and audited.
  await waitFor("the repair counted", async () => (await repairs(saleId)) > repairsBefore);
  const audits = await db.pool.query<{ after: { reason: string; restoredOrders: number } }>(
    "SELECT after FROM sale_audit WHERE sale_id = $1 AND action = 'repair' ORDER BY id", [saleId]);
  expect(audits.rows.map((r) => r.after.reason)).toContain("state_missing");
  expect(audits.rows.find((r) => r.after.reason === "state_missing")!.after.restoredOrders).toBe(before.length);
}

test("all of a sale's keys deleted after part sold → held, rebuilt from Postgres; no id reused, no second unit, the rest sells", async () => {
  const saleId = "keys-deleted";
  await loseStateMidSale(saleId, async () => {
    const keys = await redis.keys(`fs:{sale:${saleId}}:*`);
    const k = saleKeys(saleId);
    expect(keys).toEqual(expect.arrayContaining([k.meta, k.stock, k.sold, k.buyers, k.orderSeq, k.orders, k.stream]));
    await redis.del(...keys);
  });
});

test("FLUSHALL after part sold → held, rebuilt and published again; no id reused, no second unit, the rest sells", async () => {
  await loseStateMidSale("flushed", () => redis.flushall());
});
