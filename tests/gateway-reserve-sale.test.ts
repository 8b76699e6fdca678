/**
 * Deduction `reserve` through the real gateway, Redis, order worker and Postgres: units are
 * taken at acceptance and held until paid (POST /api/orders/{id}/pay) or until the expiry
 * job gives them back; counted to the unit at the end (paid + reserved + left = total).
 * The jobs run directly, with a clock past the payment timeout, instead of waiting for it.
 */
import { saleKeys } from "@flash-sale/contract/keys";
import { LOAD_TEST_KNOBS, afterConfigSync, waitForSale } from "./support/gateway";
import { expireAt, orderNoOf } from "./support/orders";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { countStatusChanges, snapshot, waitForRows, waitForStatuses, postgresOrderStatuses, redisOrderStatuses } from "./support/counts";
import { purchase, request, type HttpResponse } from "./support/http";
import { signToken } from "./support/tokens";
import { expireReservations } from "../control-plane/src/payments/reservation-expiry";

/** Short: orders are due by Redis' clock, so the tests wait the timeout out. */
const TIMEOUT_SECONDS = 4;
/** When the last purchase of buyAll() was answered. */
let lastPurchaseAt = 0;

const stack = useStack(new TestStack({ name: "reserve_sale", knobs: LOAD_TEST_KNOBS, worker: {} }));

async function createReserveSale(id: string, stock: number, paymentTimeoutSeconds = TIMEOUT_SECONDS): Promise<void> {
  await stack.controlPlane.createSale({ id, stock, deduction: "reserve", paymentTimeoutSeconds });
  await waitForSale(stack.gateway, id);
}

function pay(orderId: string, user: string): Promise<HttpResponse> {
  return request(`${stack.gateway.url}/api/orders/${orderId}/pay`, { method: "POST", headers: { Authorization: `Bearer ${signToken(user)}` } });
}

/** Each shopper buys one unit at once; the order id of each shopper who got one. */
async function buyAll(saleId: string, users: string[]): Promise<Map<string, string>> {
  const responses = await Promise.all(users.map((u) => purchase(stack.gateway.url, saleId, signToken(u))));
  const orders = new Map<string, string>();
  lastPurchaseAt = Date.now();
  responses.forEach((r, i) => {
    if (r.status === 202) orders.set(users[i]!, r.json().orderId as string);
    else expect(r.json().error).toBe("sold_out");
  });
  return orders;
}

/** Waits until the orders bought so far are due, then runs the expiry job. */
async function expireDue(): Promise<void> {
  await expireAt(lastPurchaseAt + TIMEOUT_SECONDS * 1000 + 100, stack.redis, stack.db.pool);
}

interface Units {
  left: number;
  sold: number;
  paid: number;
}

async function units(saleId: string): Promise<Units> {
  const k = saleKeys(saleId);
  const [left, sold, paid] = await Promise.all([stack.redis.get(k.stock), stack.redis.get(k.sold), stack.redis.get(k.paid)]);
  return { left: Number(left), sold: Number(sold ?? 0), paid: Number(paid ?? 0) };
}

const redisStatuses = (saleId: string) => redisOrderStatuses(stack.redis, saleId, "reserved");
const postgresStatuses = (saleId: string) => postgresOrderStatuses(stack.db.pool, saleId, "reserved");

test("100 units, 150 shoppers: 60 pay, 40 expire and go to later shoppers; paid + reserved + left = 100", async () => {
  const saleId = "reserve-counted";
  await createReserveSale(saleId, 100);
  const users = Array.from({ length: 150 }, (_, i) => `${saleId}-shopper-${i}`);

  const first = await buyAll(saleId, users);
  expect(first.size).toBe(100);
  expect(await units(saleId)).toEqual({ left: 0, sold: 100, paid: 0 });

  const buyers = [...first.keys()];
  const payers = buyers.slice(0, 60);
  const unpaid = buyers.slice(60);
  // Each payer pays twice at once: the second payment changes nothing.
  const payments = await Promise.all(payers.flatMap((u) => [pay(first.get(u)!, u), pay(first.get(u)!, u)]));
  for (const r of payments) expect([r.status, r.json().status]).toEqual([200, "paid"]);
  expect(await units(saleId)).toEqual({ left: 0, sold: 100, paid: 60 });

  await expireDue();
  expect(await units(saleId)).toEqual({ left: 40, sold: 60, paid: 60 });
  await expireDue(); // a second run returns nothing more
  expect(await units(saleId)).toEqual({ left: 40, sold: 60, paid: 60 });

  // A payment after the expiry is refused and writes nothing.
  const late = await pay(first.get(unpaid[0]!)!, unpaid[0]!);
  expect([late.status, late.json().error]).toEqual([410, "order_expired"]);
  expect(await units(saleId)).toEqual({ left: 40, sold: 60, paid: 60 });
  const expiredView = await request(`${stack.gateway.url}/api/orders/${first.get(unpaid[0]!)}`, {
    headers: { Authorization: `Bearer ${signToken(unpaid[0]!)}` },
  });
  expect(expiredView.json().status).toBe("expired");

  // The gateways' sold-out flag clears at their next sync; the 50 turned away buy again.
  await afterConfigSync();
  const later = await buyAll(saleId, users.filter((u) => !first.has(u)));
  expect(later.size).toBe(40);
  const laterBuyers = [...later.keys()];
  for (const r of await Promise.all(laterBuyers.slice(0, 20).map((u) => pay(later.get(u)!, u)))) expect(r.status).toBe(200);

  const end = await units(saleId);
  expect(end).toEqual({ left: 0, sold: 100, paid: 80 });
  const reserved = end.sold - end.paid;
  expect(end.paid + reserved + end.left).toBe(100);
  expect(await redisStatuses(saleId)).toEqual({ paid: 80, expired: 40, reserved: 20 });

  // Postgres: every order once, one per shopper, statuses as in Redis once the worker applied
  // them: one status change entry per order paid, expired or failed, each acknowledged.
  await waitForRows(stack.db.pool, saleId, 140);
  await waitForStatuses(stack.redis, stack.db.pool, saleId, "reserved");
  expect(await postgresStatuses(saleId)).toEqual({ paid: 80, expired: 40, reserved: 20 });
  const distinct = await stack.db.pool.query<{ n: number }>("SELECT count(DISTINCT user_id)::int AS n FROM orders WHERE sale_id = $1", [saleId]);
  expect(distinct.rows[0]!.n).toBe(140);
  expect(await countStatusChanges(stack.redis, saleId)).toEqual({ entries: 120, unacknowledged: 0 });
  expect(stack.gateway.errorLines()).toEqual([]);
});

test("a payment racing the expiry of the same order, 300 times: exactly one wins, stock consistent", async () => {
  const rounds = 15;
  const perRound = 20;
  let paidWins = 0;
  for (let round = 0; round < rounds; round++) {
    const saleId = `reserve-race-${round}`;
    await createReserveSale(saleId, perRound, 1);
    const users = Array.from({ length: perRound }, (_, i) => `${saleId}-shopper-${i}`);
    const orders = await buyAll(saleId, users);
    expect(orders.size).toBe(perRound);
    // Due by Redis' clock: wait the one-second timeout out; payments are still taken until the expiry runs.
    await new Promise((r) => setTimeout(r, 1100));

    // The expiry script starts at a different moment of each round's payments.
    const expiry = new Promise((r) => setTimeout(r, round % 8)).then(() => expireReservations(stack.redis, { id: saleId, deduction: "reserve", paymentTimeoutMs: 1000 }));
    const [payments] = await Promise.all([Promise.all(users.map((u) => pay(orders.get(u)!, u))), expiry]);
    const statuses = await stack.redis.hgetall(saleKeys(saleId).orders);
    let paid = 0;
    payments.forEach((r, i) => {
      const orderNo = orderNoOf(orders.get(users[i]!)!);
      if (r.status === 200) {
        paid++;
        expect(statuses[`${orderNo}:s`]).toBe("paid");
      } else {
        expect([r.status, r.json().error]).toEqual([410, "order_expired"]);
        expect(statuses[`${orderNo}:s`]).toBe("expired");
      }
    });
    expect(await units(saleId)).toEqual({ left: perRound - paid, sold: paid, paid });
    paidWins += paid;
  }
  // Both sides won somewhere (otherwise nothing raced).
  expect(paidWins).toBeGreaterThan(0);
  expect(paidWins).toBeLessThan(rounds * perRound);
});

test("refused payments write nothing", async () => {
  const saleId = "reserve-refusals";
  await createReserveSale(saleId, 5);
  const orders = await buyAll(saleId, ["alice", "bob"]);
  await stack.controlPlane.createSale({ id: "order-mode", stock: 5 });
  await waitForSale(stack.gateway, "order-mode");
  const orderMode = await buyAll("order-mode", ["alice"]);
  await waitForRows(stack.db.pool, saleId, 2);
  await waitForRows(stack.db.pool, "order-mode", 1);
  await new Promise((r) => setTimeout(r, 300)); // the worker's confirmation after the commit
  const before = await snapshot(stack.redis, stack.db.pool);

  const alice = orders.get("alice")!;
  const cases: [string, Promise<HttpResponse>, number, string][] = [
    ["no token", request(`${stack.gateway.url}/api/orders/${alice}/pay`, { method: "POST" }), 401, "unauthorized"],
    ["someone else's order", pay(alice, "bob"), 404, "order_not_found"],
    ["an order that does not exist", pay(`${saleId}.999`, "alice"), 404, "order_not_found"],
    ["an order of an unknown sale", pay("no-such-sale.1", "alice"), 404, "order_not_found"],
    ["a malformed order id", pay(`${saleId}.01`, "alice"), 404, "order_not_found"],
    ["an order of a sale that takes no payment", pay(orderMode.get("alice")!, "alice"), 409, "payment_not_accepted"],
  ];
  for (const [, response, status, error] of cases) {
    const r = await response;
    expect([r.status, r.json().error]).toEqual([status, error]);
  }
  const get = await request(`${stack.gateway.url}/api/orders/${alice}/pay`, { headers: { Authorization: `Bearer ${signToken("alice")}` } });
  expect(get.status).toBe(405);
  expect(await snapshot(stack.redis, stack.db.pool)).toBe(before);
});
