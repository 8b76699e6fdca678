/**
 * POST /payments/webhook on the control plane: the provider's signed callback pays an order of a
 * `reserve` or `payment` sale with the same script as the gateway's pay call. Refused when unsigned, badly signed,
 * outside the skew window or replayed; idempotent for a new delivery of the same payment. It answers
 * what the order costs: its own price × quantity, whatever its sale's price has become.
 */
import { createLogger } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/contract/keys";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TEST_PAYMENT_WEBHOOK_SECRET } from "./support/control-plane";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { snapshot, waitForRows } from "./support/counts";
import { purchase, request } from "./support/http";
import { signToken } from "./support/tokens";
import { orderNoOf } from "./support/orders";
import { SaleRepository } from "../control-plane/src/store/sale-repository";
import { expireReservationsJob } from "../control-plane/src/jobs/expire-reservations";
import { signDelivery } from "../control-plane/src/payments/webhook-signature";

const TIMEOUT_SECONDS = 60;
/** The skew window the test control plane is given (support/control-plane.ts). */
const SKEW_SECONDS = 300;

const orders = new Map<string, string>();

const stack = useStack(new TestStack({ name: "payment_webhook", knobs: LOAD_TEST_KNOBS, worker: {} }), async () => {
  await stack.controlPlane.createSale({ id: "webhook-reserve", stock: 5, deduction: "reserve", paymentTimeoutSeconds: TIMEOUT_SECONDS });
  await stack.controlPlane.createSale({ id: "webhook-order", stock: 5 });
  for (const id of ["webhook-reserve", "webhook-order"]) await waitForSale(stack.gateway, id);
  for (const [saleId, user] of [["webhook-reserve", "ann"], ["webhook-reserve", "ben"], ["webhook-reserve", "cat"], ["webhook-order", "ann"]] as const) {
    const r = await purchase(stack.gateway.url, saleId, signToken(user));
    expect(r.status).toBe(202);
    orders.set(`${saleId}/${user}`, r.json().orderId as string);
  }
  await waitForRows(stack.db.pool, "webhook-reserve", 3);
  await waitForRows(stack.db.pool, "webhook-order", 1);
  await new Promise((r) => setTimeout(r, 300)); // the worker's confirmation after the commit
});

interface Delivery {
  body: string;
  timestamp: string;
  signature: string;
}

function delivery(orderId: string, timestampSec = Math.floor(Date.now() / 1000)): Delivery {
  const body = JSON.stringify({ orderId });
  const timestamp = String(timestampSec);
  return { body, timestamp, signature: signDelivery(TEST_PAYMENT_WEBHOOK_SECRET, timestamp, Buffer.from(body)) };
}

async function send(d: Delivery, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.controlPlane.url}/payments/webhook`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Payment-Timestamp": d.timestamp, "X-Payment-Signature": d.signature, ...headers },
    body: d.body,
  });
  return { status: res.status, body: (await res.json()) as { error?: string; message?: string; status?: string; amount?: number; currency?: string } };
}

async function unitsPaid(): Promise<number> {
  return Number((await stack.redis.get(saleKeys("webhook-reserve").paid)) ?? 0);
}

test("a signed delivery pays the order; a new delivery of it changes nothing; an exact replay is refused", async () => {
  const orderId = orders.get("webhook-reserve/ann")!;
  const first = delivery(orderId);
  // The test control plane's default price: 199 (support/control-plane.ts).
  expect(await send(first)).toEqual({ status: 200, body: { orderId, status: "paid", amount: 199, currency: "USD" } });
  expect(await unitsPaid()).toBe(1);

  const again = delivery(orderId, Number(first.timestamp) + 1);
  expect(await send(again)).toEqual({ status: 200, body: { orderId, status: "paid", amount: 199, currency: "USD" } });
  expect(await unitsPaid()).toBe(1);

  const replay = await send(first);
  expect([replay.status, replay.body.error, replay.body.message]).toEqual([401, "unauthorized", expect.stringMatching(/received before/)]);
  // The shopper paying through the gateway too changes nothing either.
  const viaGateway = await request(`${stack.gateway.url}/api/orders/${orderId}/pay`, { method: "POST", headers: { Authorization: `Bearer ${signToken("ann")}` } });
  expect(viaGateway.status).toBe(200);
  expect(await unitsPaid()).toBe(1);
  expect(await stack.redis.hget(saleKeys("webhook-reserve").orders, `${orderNoOf(orderId)}:s`)).toBe("paid");
});

test("the amount is the order's own price times its quantity, not its sale's price after a change", async () => {
  await stack.controlPlane.createSale({ id: "webhook-repriced", price: 250, currency: "EUR", stock: 5, perUserLimit: 2, deduction: "reserve", paymentTimeoutSeconds: TIMEOUT_SECONDS });
  await waitForSale(stack.gateway, "webhook-repriced");
  const bought = await purchase(stack.gateway.url, "webhook-repriced", signToken("fay"), { quantity: 2 });
  expect(bought.status).toBe(202);
  const orderId = bought.json().orderId as string;
  const changed = await stack.controlPlane.admin("PATCH", "/admin/api/sales/webhook-repriced", { price: 1, currency: "USD" });
  expect(changed.status).toBe(200);
  expect(await send(delivery(orderId))).toEqual({ status: 200, body: { orderId, status: "paid", amount: 500, currency: "EUR" } });
});

test("unsigned, badly signed, stale or early deliveries are refused and write nothing", async () => {
  const orderId = orders.get("webhook-reserve/ben")!;
  const before = await snapshot(stack.redis, stack.db.pool);
  const now = Math.floor(Date.now() / 1000);
  const good = delivery(orderId);
  const cases: [string, Delivery, RegExp][] = [
    ["no signature", { ...good, signature: "" }, /x-payment-signature/],
    ["no timestamp", { ...good, timestamp: "" }, /x-payment-timestamp/],
    ["a signature by another secret", { ...good, signature: signDelivery("another-secret-0123456789abcdef0123", good.timestamp, Buffer.from(good.body)) }, /does not match/],
    ["a body changed after signing", { ...good, body: good.body.replace("}", ' }') }, /does not match/],
    ["a timestamp changed after signing", { ...good, timestamp: String(now + 1) }, /does not match/],
    ["a timestamp past the skew window", delivery(orderId, now - SKEW_SECONDS - 5), /more than 300 s from now/],
    ["a timestamp ahead of the skew window", delivery(orderId, now + SKEW_SECONDS + 5), /more than 300 s from now/],
  ];
  for (const [name, d, message] of cases) {
    const res = await send(d);
    expect({ name, status: res.status, error: res.body.error }).toEqual({ name, status: 401, error: "unauthorized" });
    expect(res.body.message).toMatch(message);
  }
  expect(await snapshot(stack.redis, stack.db.pool)).toBe(before);
});

test("an expired order, an order of a sale without payment, and a malformed or unknown order are refused", async () => {
  const repository = new SaleRepository(stack.db.pool);
  const logger = createLogger("webhook-test", "silent");
  // Due by Redis' clock: a sale of its own with a one-second payment timeout, waited out.
  await stack.controlPlane.createSale({ id: "webhook-expiring", stock: 5, deduction: "reserve", paymentTimeoutSeconds: 1 });
  await waitForSale(stack.gateway, "webhook-expiring");
  const bought = await purchase(stack.gateway.url, "webhook-expiring", signToken("cat"));
  expect(bought.status).toBe(202);
  const cat = bought.json().orderId as string;
  await new Promise((r) => setTimeout(r, 1100));
  await expireReservationsJob({ redis: stack.redis, repository, logger }, "* * * * * *", 30_000).run();
  expect(await stack.redis.hget(saleKeys("webhook-expiring").orders, `${orderNoOf(cat)}:s`)).toBe("expired");

  const cases: [string, Delivery, number, string][] = [
    ["expired", delivery(cat), 410, "order_expired"],
    ["order mode", delivery(orders.get("webhook-order/ann")!), 409, "payment_not_accepted"],
    ["unknown sale", delivery("no-such-sale.1.1"), 404, "order_not_found"],
    ["unknown order", delivery("webhook-reserve.1.99"), 404, "order_not_found"],
    ["another epoch's order of that number", delivery(`webhook-reserve.999.${orderNoOf(orders.get("webhook-reserve/ben")!)}`), 404, "order_not_found"],
    ["malformed", delivery("not an order id"), 400, "bad_request"],
  ];
  for (const [name, d, status, error] of cases) {
    const res = await send(d);
    expect({ name, status: res.status, error: res.body.error }).toEqual({ name, status, error });
  }
  // Ann's payment and nothing since: Cat's expired unit is on sale again.
  expect(await unitsPaid()).toBe(1);
  expect(await stack.redis.get(saleKeys("webhook-expiring").stock)).toBe("5");
});

test("the webhook is not reachable through the gateway", async () => {
  const d = delivery(orders.get("webhook-reserve/ben")!);
  const before = await snapshot(stack.redis, stack.db.pool);
  const res = await request(`${stack.gateway.url}/payments/webhook`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Payment-Timestamp": d.timestamp, "X-Payment-Signature": d.signature },
    body: d.body,
  });
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(await snapshot(stack.redis, stack.db.pool)).toBe(before);
});

test("a payment sale: the webhook takes the unit, or fails the order when none is left", async () => {
  const saleId = "webhook-payment";
  await stack.controlPlane.createSale({ id: saleId, stock: 1, deduction: "payment", paymentTimeoutSeconds: TIMEOUT_SECONDS, limits: { openUnpaidOrders: 5 } });
  await waitForSale(stack.gateway, saleId);
  const [dan, eve] = await Promise.all(["dan", "eve"].map((u) => purchase(stack.gateway.url, saleId, signToken(u))));
  const k = saleKeys(saleId);
  expect(await stack.redis.mget(k.stock, k.paid, k.openUnpaid)).toEqual(["1", "0", "2"]);

  const danOrder = dan!.json().orderId as string;
  expect(await send(delivery(danOrder))).toEqual({ status: 200, body: { orderId: danOrder, status: "paid", amount: 199, currency: "USD" } });
  const eveOrder = eve!.json().orderId as string;
  const first = delivery(eveOrder);
  for (const d of [first, delivery(eveOrder, Number(first.timestamp) + 1)]) {
    const res = await send(d);
    expect([res.status, res.body.error]).toEqual([410, "order_failed"]);
  }
  expect(await stack.redis.mget(k.stock, k.sold, k.paid, k.openUnpaid)).toEqual(["0", "1", "1", "0"]);
  expect(await stack.redis.hget(k.orders, `${orderNoOf(eveOrder)}:s`)).toBe("failed");
});
