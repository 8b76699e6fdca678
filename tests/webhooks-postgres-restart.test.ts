/**
 * Postgres restarted under the webhook outbox, twice: mid-rush (orders accepted by the gateway
 * while it is down) and mid-delivery (the receiver answers 2xx to requests held while it goes
 * down, so the dispatchers cannot record them), then again while the worker writes payments and
 * expiries. Nobody restarts the order worker or the two control planes (each runs a
 * dispatcher): they recover by themselves. Counted: every event of every order (and the sale's)
 * delivered at least once, verified by the standardwebhooks library, an order's events in
 * order, the accepted ids equal to the outbox's. A private Postgres, which the test stops.
 */
import { expireReservations } from "../control-plane/src/payments/reservation-expiry";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { ControlPlaneProcess } from "./support/control-plane-process";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { purchase, request } from "./support/http";
import { waitFor, type WorkerProcess } from "./support/stream-fixtures";
import { signToken } from "./support/tokens";
import { outOfOrder, Receiver, unverified } from "./support/webhook-receiver";

const SALE = "wh-pg-restart";
/** Held requests are released well within the timeout, so each is a 2xx the dispatcher got. */
const DISPATCHER_ENV = {
  FS_WEBHOOK_ALLOW_PRIVATE_URLS: "true",
  FS_WEBHOOK_TIMEOUT_MS: "5000",
  FS_WEBHOOK_BACKOFF_BASE_MS: "50",
  FS_WEBHOOK_BACKOFF_MAX_MS: "400",
  FS_WEBHOOK_POLL_MS: "50",
};

let worker: WorkerProcess;
const controlPlanes: ControlPlaneProcess[] = [];
const shop = new Receiver();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const stack = useStack(new TestStack({ name: "webhooks_postgres_restart", knobs: LOAD_TEST_KNOBS, database: "private", controlPlane: false, worker: { name: "wh-pg", batchSize: 20 } }), async () => {
  worker = stack.worker!;
  stack.onStop(async () => {
    for (const cp of controlPlanes) await cp.stop();
  });
  for (let i = 0; i < 2; i++) {
    controlPlanes.push(await ControlPlaneProcess.start({ redisUrl: stack.redisServer.url(), databaseUrl: stack.postgres.url(), gatewayMetricsUrl: stack.gateway.metricsUrl, env: DISPATCHER_ENV }));
  }
  await shop.listen();
  stack.onStop(() => shop.down());
});

/** Each shopper buys one unit through the gateway; the order ids of the 202s. */
async function buy(users: string[]): Promise<string[]> {
  const answers = await Promise.all(users.map((u) => purchase(stack.gateway.url, SALE, signToken(u))));
  return answers.flatMap((a) => {
    if (a.status === 202) return [a.json().orderId as string];
    expect(a.json().error).toBe("sold_out");
    return [];
  });
}

/** Stops Postgres once the receiver holds requests, answers them 2xx while it is down, starts it again. */
async function restartMidDelivery(whileDown: () => Promise<void>): Promise<number> {
  await waitFor("deliveries held by the receiver", () => shop.holding() >= 3);
  await stack.postgres.stop();
  const released = shop.release();
  shop.mode = () => "ok";
  await whileDown();
  await sleep(1000);
  await stack.postgres.start();
  return released;
}

async function outboxIds(): Promise<Set<string>> {
  const { rows } = await stack.db.pool.query<{ seq: string }>("SELECT seq FROM webhook_events WHERE sale_id = $1", [SALE]);
  return new Set(rows.map((r) => `evt_${r.seq}`));
}

test("Postgres restarted mid-rush and mid-delivery, twice: every event delivered at least once, verified, in order, none lost; worker and dispatchers recover by themselves", async () => {
  const [cp] = controlPlanes;
  const created = await cp!.admin("POST", "/admin/api/webhooks", { url: shop.url });
  expect(created.status).toBe(201);
  shop.secrets = [created.body.secret];
  const now = Date.now();
  const sale = await cp!.admin("POST", "/admin/api/sales", {
    id: SALE,
    name: "Restarted",
    price: 990,
    currency: "EUR",
    stock: 60,
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    deduction: "reserve",
    paymentTimeoutSeconds: 600,
  });
  expect(sale.status).toBe(201);
  await waitForSale(stack.gateway, SALE);

  // The rush: 30 shoppers before the restart, 50 more (30 units left) while Postgres is down.
  shop.mode = () => "hold";
  const users = Array.from({ length: 80 }, (_, i) => `wh-pg-u${i}`);
  const orders = await buy(users.slice(0, 30));
  const heldInRush = await restartMidDelivery(async () => {
    for (let w = 30; w < 80; w += 10) orders.push(...(await buy(users.slice(w, w + 10))));
  });
  expect(orders).toHaveLength(60);
  // Recorded delivered, the unrecorded ones sent again after their lease.
  await waitFor("every order.confirmed delivered", async () => {
    const { rows } = await stack.db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM webhook_deliveries d JOIN webhook_events ev ON ev.seq = d.event_seq WHERE ev.type = 'order.confirmed' AND d.delivered_at IS NOT NULL",
    );
    return rows[0]!.n === 60;
  }, 60_000);

  // Payments and expiries written by the worker while Postgres restarts under their deliveries.
  shop.mode = () => "hold";
  const paid = orders.slice(0, 20);
  for (const orderId of paid) {
    const user = users[orders.indexOf(orderId)]!;
    const answer = await request(`${stack.gateway.url}/api/orders/${orderId}/pay`, { method: "POST", headers: { Authorization: `Bearer ${signToken(user)}` } });
    expect(answer.status).toBe(200);
  }
  const heldInStatuses = await restartMidDelivery(async () => {
    expect((await expireReservations(stack.redis, { id: SALE, deduction: "reserve", paymentTimeoutMs: 0 })).expiredOrders).toBe(40);
  });
  await waitFor("the sale ended through the admin API", async () => (await cp!.admin("POST", `/admin/api/sales/${SALE}/end`)).status === 200, 20_000);

  const expected = 60 + 20 + 40 + 3;
  await waitFor("the sale's outbox filled", async () => (await outboxIds()).size === expected, 30_000);
  const all = await outboxIds();
  await waitFor("every event accepted", () => [...all].every((id) => shop.accepted().has(id)), 60_000);

  expect(shop.accepted()).toEqual(all);
  const byType = (t: string) => new Set(shop.received.filter((x) => x.type === t).map((x) => x.data.orderId ?? x.data.saleId));
  expect(byType("order.confirmed")).toEqual(new Set(orders));
  expect(byType("order.paid")).toEqual(new Set(paid));
  expect(byType("order.expired")).toEqual(new Set(orders.slice(20)));
  expect(["sale.started", "sale.sold_out", "sale.ended"].map((t) => byType(t).size)).toEqual([1, 1, 1]);
  expect(unverified(shop)).toEqual([]);
  expect(outOfOrder(shop, orders)).toEqual([]);
  // The 2xx answered while Postgres was down are recorded too, once sent again after their lease.
  await waitFor("every delivery recorded", async () => (await stack.db.pool.query("SELECT 1 FROM webhook_deliveries WHERE delivered_at IS NULL")).rows.length === 0, 30_000);

  // Each of those went unrecorded, so its event was answered 2xx again.
  expect(heldInRush).toBeGreaterThanOrEqual(3);
  expect(heldInStatuses).toBeGreaterThanOrEqual(3);
  const answeredWhileDown = shop.received.filter((x) => x.mode === "hold" && x.okAt !== undefined);
  expect(answeredWhileDown.length).toBe(heldInRush + heldInStatuses);
  // The rush's holds catch order.confirmed (and sale.started when it is sent then), the statuses' order.paid.
  const heldTypes = new Set(answeredWhileDown.map((x) => x.type));
  expect([...heldTypes].filter((t) => !["order.confirmed", "order.paid", "sale.started"].includes(t))).toEqual([]);
  expect([heldTypes.has("order.confirmed"), heldTypes.has("order.paid")]).toEqual([true, true]);
  expect(answeredWhileDown.filter((h) => !shop.received.some((x) => x.id === h.id && x.at > h.okAt! && x.okAt !== undefined))).toEqual([]);

  // Nothing was restarted but Postgres: the same processes, which saw it fail and come back.
  for (const p of [worker, ...controlPlanes]) expect(p.child.exitCode).toBeNull();
  expect(worker.logs.some((l) => String(l.what).startsWith("postgres") && typeof l.retryInMs === "number")).toBe(true);
  for (const c of controlPlanes) expect(c.logs.filter((l) => l.msg === "webhook dispatcher: Postgres answers again").length).toBeGreaterThanOrEqual(2);
});
