/**
 * Deduction `payment` through the real gateway, Redis, order worker and Postgres: orders are
 * accepted without taking a unit, each payment (POST /api/orders/{id}/pay) takes its units or,
 * when too few are left, fails the order; the orders waiting unpaid are bounded per sale.
 * Counted to the unit at the end (paid + left = total, nothing reserved).
 * The jobs run directly, with a clock past the payment timeout, instead of waiting for it.
 */
import { saleKeys } from "@flash-sale/contract/keys";
import { LOAD_TEST_KNOBS, afterConfigSync, waitForSale } from "./support/gateway";
import { expireAt } from "./support/orders";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { countStatusChanges, snapshot, waitForRows, waitForStatuses, postgresOrderStatuses, redisOrderStatuses } from "./support/counts";
import { purchase, request, type HttpResponse } from "./support/http";
import { signToken } from "./support/tokens";

/** Short: orders are due by Redis' clock, so the test waits the timeout out. */
const TIMEOUT_SECONDS = 3;

const stack = useStack(new TestStack({ name: "payment_sale", knobs: LOAD_TEST_KNOBS, worker: {} }));

async function createPaymentSale(id: string, stock: number, openUnpaidOrders: number): Promise<void> {
  await stack.controlPlane.createSale({ id, stock, deduction: "payment", paymentTimeoutSeconds: TIMEOUT_SECONDS, limits: { openUnpaidOrders } });
  await waitForSale(stack.gateway, id);
}

function pay(orderId: string, user: string): Promise<HttpResponse> {
  return request(`${stack.gateway.url}/api/orders/${orderId}/pay`, { method: "POST", headers: { Authorization: `Bearer ${signToken(user)}` } });
}

function orderView(orderId: string, user: string): Promise<HttpResponse> {
  return request(`${stack.gateway.url}/api/orders/${orderId}`, { headers: { Authorization: `Bearer ${signToken(user)}` } });
}

/** Each shopper orders one unit at once; the order id of each shopper whose order was accepted. */
async function orderAll(saleId: string, users: string[]): Promise<Map<string, string>> {
  const responses = await Promise.all(users.map((u) => purchase(stack.gateway.url, saleId, signToken(u))));
  const orders = new Map<string, string>();
  responses.forEach((r, i) => {
    expect(r.status).toBe(202);
    orders.set(users[i]!, r.json().orderId as string);
  });
  return orders;
}

/** Waits until orders accepted at `since` are due, then runs the expiry job. */
async function expireDue(since: number): Promise<void> {
  await expireAt(since + TIMEOUT_SECONDS * 1000 + 100, stack.redis, stack.db.pool);
}

interface Counters {
  left: number;
  sold: number;
  paid: number;
  openUnpaid: number;
}

async function counters(saleId: string): Promise<Counters> {
  const k = saleKeys(saleId);
  const [left, sold, paid, openUnpaid] = await stack.redis.mget(k.stock, k.sold, k.paid, k.openUnpaid);
  return { left: Number(left), sold: Number(sold ?? 0), paid: Number(paid ?? 0), openUnpaid: Number(openUnpaid ?? 0) };
}

const redisStatuses = (saleId: string) => redisOrderStatuses(stack.redis, saleId, "open");
const postgresStatuses = (saleId: string) => postgresOrderStatuses(stack.db.pool, saleId, "open");

test("100 units, 150 orders, 150 payments: 100 paid, 50 fail cleanly; paid + left = 100", async () => {
  const saleId = "payment-counted";
  await createPaymentSale(saleId, 100, 150);
  const users = Array.from({ length: 150 }, (_, i) => `${saleId}-shopper-${i}`);

  const orders = await orderAll(saleId, users);
  expect(orders.size).toBe(150);
  expect(await counters(saleId)).toEqual({ left: 100, sold: 0, paid: 0, openUnpaid: 150 });

  // Every shopper pays twice at once: the second answer is the first one's, and writes nothing.
  const payments = await Promise.all(users.flatMap((u) => [pay(orders.get(u)!, u), pay(orders.get(u)!, u)]));
  const paidUsers: string[] = [];
  const failedUsers: string[] = [];
  users.forEach((u, i) => {
    const [first, second] = [payments[2 * i]!, payments[2 * i + 1]!];
    expect([second.status, second.json()]).toEqual([first.status, first.json()]);
    if (first.status === 200) {
      expect(first.json()).toEqual({ orderId: orders.get(u), status: "paid" });
      paidUsers.push(u);
    } else {
      expect([first.status, first.json().error]).toEqual([410, "order_failed"]);
      expect(first.json().message).toMatch(/No units were left/);
      failedUsers.push(u);
    }
  });
  expect(paidUsers.length).toBe(100);
  expect(failedUsers.length).toBe(50);

  const end = await counters(saleId);
  expect(end).toEqual({ left: 0, sold: 100, paid: 100, openUnpaid: 0 });
  expect(end.paid + end.left).toBe(100);
  expect(await redisStatuses(saleId)).toEqual({ paid: 100, failed: 50 });
  expect((await orderView(orders.get(failedUsers[0]!)!, failedUsers[0]!)).json()).toMatchObject({
    status: "failed",
    deduction: "payment",
    payBy: expect.any(String),
  });
  expect((await orderView(orders.get(paidUsers[0]!)!, paidUsers[0]!)).json().status).toBe("paid");

  // Postgres: every order once, one per shopper, statuses as in Redis once the worker applied
  // them: one status change entry per order paid, expired or failed, each acknowledged.
  await waitForRows(stack.db.pool, saleId, 150);
  await waitForStatuses(stack.redis, stack.db.pool, saleId, "open");
  expect(await postgresStatuses(saleId)).toEqual({ paid: 100, failed: 50 });
  const distinct = await stack.db.pool.query<{ n: number }>("SELECT count(DISTINCT user_id)::int AS n FROM orders WHERE sale_id = $1", [saleId]);
  expect(distinct.rows[0]!.n).toBe(150);
  expect(await countStatusChanges(stack.redis, saleId)).toEqual({ entries: 150, unacknowledged: 0 });

  const stats = await stack.controlPlane.admin("GET", `/admin/api/sales/${saleId}`);
  expect(stats.body.stats).toMatchObject({ unitsLeft: 0, unitsSold: 100, unitsPaid: 100, ordersOpenUnpaid: 0, ordersPersisted: 150 });

  // Sold out: once the gateways' sync reads 0 left, a new order is refused and writes nothing,
  // and so is a failed order paid again.
  await afterConfigSync();
  await new Promise((r) => setTimeout(r, 300)); // the worker's confirmation after the commit
  const before = await snapshot(stack.redis, stack.db.pool);
  const late = await purchase(stack.gateway.url, saleId, signToken(`${saleId}-late`));
  expect([late.status, late.json().error]).toEqual([410, "sold_out"]);
  const retry = await pay(orders.get(failedUsers[0]!)!, failedUsers[0]!);
  expect([retry.status, retry.json().error]).toEqual([410, "order_failed"]);
  expect(await snapshot(stack.redis, stack.db.pool)).toBe(before);
  expect(stack.gateway.errorLines()).toEqual([]);
});

test("the open unpaid orders are bounded: the next order is refused and writes nothing until one is paid or expires", async () => {
  const saleId = "payment-bounded";
  await createPaymentSale(saleId, 10, 3);
  const orders = await orderAll(saleId, ["ann", "bob", "cy"]);
  await waitForRows(stack.db.pool, saleId, 3);
  await new Promise((r) => setTimeout(r, 300)); // the worker's confirmation after the commit

  const before = await snapshot(stack.redis, stack.db.pool);
  const busy = await purchase(stack.gateway.url, saleId, signToken("dee"));
  expect([busy.status, busy.json().error, busy.headers["retry-after"]]).toEqual([503, "sale_busy", "5"]);
  expect(busy.json().retryAfter).toBe(5);
  expect(await snapshot(stack.redis, stack.db.pool)).toBe(before);
  expect(await counters(saleId)).toEqual({ left: 10, sold: 0, paid: 0, openUnpaid: 3 });

  // A payment frees a place.
  expect((await pay(orders.get("ann")!, "ann")).status).toBe(200);
  const dee = await orderAll(saleId, ["dee"]);
  const deeOrderedAt = Date.now();
  expect(await counters(saleId)).toEqual({ left: 9, sold: 1, paid: 1, openUnpaid: 3 });

  // The expiry frees the rest without touching stock (payment mode took no unit for them).
  await expireDue(deeOrderedAt);
  expect(await counters(saleId)).toEqual({ left: 9, sold: 1, paid: 1, openUnpaid: 0 });
  expect(await redisStatuses(saleId)).toEqual({ paid: 1, expired: 3 });
  const late = await pay(dee.get("dee")!, "dee");
  expect([late.status, late.json().error]).toEqual([410, "order_expired"]);
  expect(await counters(saleId)).toEqual({ left: 9, sold: 1, paid: 1, openUnpaid: 0 });

  await orderAll(saleId, ["eve", "fay", "gus"]);
  expect(await counters(saleId)).toEqual({ left: 9, sold: 1, paid: 1, openUnpaid: 3 });
  await waitForRows(stack.db.pool, saleId, 7);
  await waitForStatuses(stack.redis, stack.db.pool, saleId, "open");
  expect(await postgresStatuses(saleId)).toEqual({ paid: 1, expired: 3, open: 3 });
  expect(await countStatusChanges(stack.redis, saleId)).toEqual({ entries: 4, unacknowledged: 0 });
  expect(stack.gateway.errorLines()).toEqual([]);
});
