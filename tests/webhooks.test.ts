/**
 * Order and sale events reach the shop as Standard Webhooks, from the Postgres outbox: orders
 * bought through the real gateway, drained by the real order worker (which writes each event in
 * the transaction of its change), delivered by the dispatcher to a real HTTP receiver that
 * answers 500, hangs past the timeout, answers slowly, or is down and comes back; the dispatcher
 * SIGKILLed mid-delivery (the control plane's process); an endpoint failing for its retry
 * window disabled, its events kept and delivered once enabled. Counted: every event of every
 * order delivered at least once, its signature verified by the standardwebhooks library, an
 * order's events in order, none lost; and the admin API's refusals write nothing.
 */
import { createLogger } from "@flash-sale/node-common";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { adminCall, type AdminAnswer } from "./support/control-plane";
import { ControlPlaneProcess } from "./support/control-plane-process";
import { serveAdminApp, type ServedApp } from "./support/admin-app";
import { purchase, request } from "./support/http";
import { scrape } from "./support/prometheus";
import { signToken } from "./support/tokens";
import { waitFor } from "./support/stream-fixtures";
import { outOfOrder, Receiver, unverified } from "./support/webhook-receiver";
import { ControlPlaneMetrics } from "../control-plane/src/metrics";
import { expireReservations } from "../control-plane/src/payments/reservation-expiry";
import { WebhookDispatcher, type DispatcherSettings } from "../control-plane/src/webhooks/dispatcher";
import { WebhookMetrics } from "../control-plane/src/webhooks/metrics";

/** Short times, so that each failure mode costs the test well under a second. */
const SETTINGS: DispatcherSettings = {
  allowPrivateUrls: true,
  retryForMs: 600_000,
  backoff: { baseMs: 50, maxMs: 400 },
  timeoutMs: 1000,
  concurrency: 16,
  pollMs: 50,
};
const logger = createLogger("webhooks-test", "silent");

let admin: ServedApp;
let metrics: ControlPlaneMetrics;
let webhookMetrics: WebhookMetrics;
const receivers: Receiver[] = [];

async function receiver(): Promise<Receiver> {
  const r = new Receiver();
  await r.listen();
  receivers.push(r);
  return r;
}

function call(method: string, path: string, body?: unknown): Promise<AdminAnswer> {
  return adminCall(admin.url, method, path, body);
}

async function createEndpoint(r: Receiver, events?: string[]): Promise<string> {
  const res = await call("POST", "/admin/api/webhooks", { url: r.url, events, description: "test receiver" });
  expect(res.status).toBe(201);
  expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  r.secrets = [res.body.secret];
  return res.body.id as string;
}

function dispatcher(settings: Partial<DispatcherSettings> = {}): WebhookDispatcher {
  const d = new WebhookDispatcher({ pool: stack.db.pool, logger, settings: { ...SETTINGS, ...settings }, metrics: webhookMetrics });
  d.start();
  return d;
}

async function openSale(id: string, stock: number, extra: Record<string, unknown> = {}): Promise<void> {
  await stack.controlPlane.createSale({ id, stock, price: 250, currency: "EUR", ...extra });
  await waitForSale(stack.gateway, id);
}

/** Each shopper buys one unit through the gateway; the order ids of the 202s. */
async function buy(saleId: string, users: string[]): Promise<Map<string, string>> {
  const answers = await Promise.all(users.map((u) => purchase(stack.gateway.url, saleId, signToken(u))));
  const orders = new Map<string, string>();
  answers.forEach((a, i) => {
    if (a.status === 202) orders.set(users[i]!, a.json().orderId as string);
    else expect(a.json().error).toBe("sold_out");
  });
  return orders;
}

/** The webhook ids of the sale's events in the outbox, of these types (all when none given). */
async function outboxIds(saleId: string, types?: string[]): Promise<Set<string>> {
  const { rows } = await stack.db.pool.query<{ seq: string }>(
    "SELECT seq FROM webhook_events WHERE sale_id = $1 AND ($2::text[] IS NULL OR type = ANY ($2))",
    [saleId, types ?? null],
  );
  return new Set(rows.map((r) => `evt_${r.seq}`));
}

const stack = useStack(new TestStack({ name: "webhooks", knobs: LOAD_TEST_KNOBS, worker: {} }), async () => {
  stack.onStop(async () => {
    for (const r of receivers) await r.down();
  });
  metrics = new ControlPlaneMetrics(stack.redis, stack.db.pool);
  webhookMetrics = new WebhookMetrics(metrics.registry, stack.db.pool);
  admin = await stack.serveAdminApp({ metrics, logger, webhooks: { allowPrivateUrls: true } });
});

test("a reserve sale's every order and sale event, through 500s, timeouts, slow answers and a receiver down and back: at least once, verified, in order, none lost", async () => {
  const saleId = "wh-flaky";
  const shop = await receiver();
  const endpoint = await createEndpoint(shop);
  // Each event's first attempt fails one way or another by its number; later ones mostly pass.
  shop.mode = (id, attempt) => {
    const n = Number(id.slice(4));
    if (attempt === 0) return (["error", "hang", "slow", "ok", "ok"] as const)[n % 5]!;
    return attempt === 1 && n % 3 === 0 ? "error" : "ok";
  };
  const d = dispatcher();
  try {
    await openSale(saleId, 30, { deduction: "reserve", paymentTimeoutSeconds: 600 });
    const users = Array.from({ length: 40 }, (_, i) => `wh-flaky-u${i}`);
    const orders = await buy(saleId, users);
    expect(orders.size).toBe(30);
    await waitFor("sale.sold_out delivered", () => shop.received.some((x) => x.type === "sale.sold_out" && x.okAt !== undefined), 20_000);

    // Down for 2 s while the payments and expiries are written and delivered.
    await shop.down();
    const paying = [...orders].slice(0, 10);
    for (const [user, orderId] of paying) {
      const paid = await request(`${stack.gateway.url}/api/orders/${orderId}/pay`, { method: "POST", headers: { Authorization: `Bearer ${signToken(user)}` } });
      expect(paid.status).toBe(200);
    }
    expect((await expireReservations(stack.redis, { id: saleId, deduction: "reserve", paymentTimeoutMs: 0 })).expiredOrders).toBe(20);
    expect((await stack.controlPlane.admin("POST", `/admin/api/sales/${saleId}/end`)).status).toBe(200);
    await waitFor("attempts refused while down", async () => {
      const { rows } = await stack.db.pool.query("SELECT 1 FROM webhook_deliveries WHERE last_error LIKE '%ECONNREFUSED%' LIMIT 1");
      return rows.length > 0;
    });
    await new Promise((r) => setTimeout(r, 2000));
    await shop.listen();

    const expected = 30 + 10 + 20 + 3;
    await waitFor("the sale's outbox filled", async () => (await outboxIds(saleId)).size === expected, 20_000);
    const all = await outboxIds(saleId);
    await waitFor("every event accepted", () => [...all].every((id) => shop.accepted().has(id)), 30_000);

    // None lost, none made up: what the receiver accepted is the outbox, event for event.
    expect(new Set([...shop.accepted()].filter((id) => shop.received.find((x) => x.id === id)!.data.saleId === saleId))).toEqual(all);
    const byType = (t: string) => new Set(shop.received.filter((x) => x.type === t && x.data.saleId === saleId).map((x) => x.data.orderId ?? x.data.saleId)).size;
    expect({
      confirmed: byType("order.confirmed"),
      paid: byType("order.paid"),
      expired: byType("order.expired"),
      started: byType("sale.started"),
      soldOut: byType("sale.sold_out"),
      ended: byType("sale.ended"),
    }).toEqual({ confirmed: 30, paid: 10, expired: 20, started: 1, soldOut: 1, ended: 1 });
    expect(unverified(shop)).toEqual([]);
    expect(outOfOrder(shop, orders.values())).toEqual([]);
    // Every failure mode was met, and retried.
    const modes = new Set(shop.received.map((x) => x.mode));
    expect([...modes].sort()).toEqual(["error", "hang", "ok", "slow"]);
    expect(shop.received.length).toBeGreaterThan(all.size + 10);
    // None stuck: each 2xx is recorded at the dispatcher's next turn.
    await waitFor("every delivery recorded", async () => (await stack.db.pool.query("SELECT 1 FROM webhook_deliveries WHERE endpoint_id = $1 AND delivered_at IS NULL", [endpoint])).rows.length === 0);

    // The payload is the order as stored, with its own price and currency.
    const { rows } = await stack.db.pool.query<{ order_id: string; user_id: string; quantity: number; price: string; currency: string; status: string; accepted_at: Date; status_changed_at: Date | null }>(
      "SELECT order_id, user_id, quantity, price, currency, status, accepted_at, status_changed_at FROM orders WHERE sale_id = $1",
      [saleId],
    );
    expect(rows).toHaveLength(30);
    for (const row of rows) {
      const confirmed = shop.received.find((x) => x.type === "order.confirmed" && x.data.orderId === row.order_id)!;
      expect(confirmed.data).toEqual({
        orderId: row.order_id,
        saleId,
        userId: row.user_id,
        quantity: 1,
        price: 250,
        currency: "EUR",
        amount: 250,
        status: "confirmed",
        acceptedAt: row.accepted_at.toISOString(),
        statusChangedAt: null,
      });
      const later = shop.received.find((x) => x.type === `order.${row.status}` && x.data.orderId === row.order_id)!;
      expect(later.data).toMatchObject({ orderId: row.order_id, status: row.status, statusChangedAt: row.status_changed_at!.toISOString() });
    }

    const text = await scrape(`${admin.url}/metrics`);
    expect(text.sum("fs_webhook_deliveries_total", { endpoint })).toBeGreaterThanOrEqual(expected);
    expect(text.sum("fs_webhook_delivery_failures_total", { endpoint })).toBeGreaterThan(0);
    expect(text.sum("fs_webhook_delivery_lag_seconds_count", { endpoint })).toBeGreaterThanOrEqual(expected);
    expect(text.value("fs_webhook_oldest_undelivered_seconds", { endpoint })).toBe(0);
    expect(text.value("fs_webhook_endpoint_disabled", { endpoint })).toBe(0);
  } finally {
    await d.stop();
  }
  expect((await call("DELETE", `/admin/api/webhooks/${endpoint}`)).status).toBe(204);
  expect((await call("GET", `/admin/api/webhooks/${endpoint}`)).body.error).toBe("webhook_not_found");
});

test("the dispatcher SIGKILLed with deliveries in flight: another sends them again after their lease; none lost", async () => {
  const saleId = "wh-kill";
  const shop = await receiver();
  const endpoint = await createEndpoint(shop, ["order.confirmed"]);
  shop.mode = () => "hang";
  await openSale(saleId, 100);
  const orders = await buy(saleId, Array.from({ length: 12 }, (_, i) => `wh-kill-u${i}`));
  expect(orders.size).toBe(12);
  await waitFor("the orders in the outbox", async () => (await outboxIds(saleId, ["order.confirmed"])).size === 12);

  const env = {
    FS_WEBHOOK_ALLOW_PRIVATE_URLS: "true",
    FS_WEBHOOK_TIMEOUT_MS: "3000",
    FS_WEBHOOK_BACKOFF_BASE_MS: "50",
    FS_WEBHOOK_BACKOFF_MAX_MS: "400",
    FS_WEBHOOK_POLL_MS: "50",
  };
  const doomed = await ControlPlaneProcess.start({ redisUrl: stack.redisServer.url(), databaseUrl: stack.db.url, env });
  await waitFor("the 12 deliveries held by the receiver", () => shop.received.length === 12, 10_000);
  doomed.child.kill("SIGKILL");
  expect(await doomed.exited).toEqual({ code: null, signal: "SIGKILL" });
  const killedAt = Date.now();
  shop.dropHeld();
  shop.mode = () => "ok";

  const rescuer = await ControlPlaneProcess.start({ redisUrl: stack.redisServer.url(), databaseUrl: stack.db.url, env });
  try {
    const all = await outboxIds(saleId, ["order.confirmed"]);
    await waitFor("every event accepted", () => [...all].every((id) => shop.accepted().has(id)), 20_000);
    // Held by the lease (the timeout and a margin), not sent again at once.
    expect(Math.min(...shop.received.filter((x) => x.okAt !== undefined).map((x) => x.at))).toBeGreaterThan(killedAt + 1000);
    expect(shop.accepted()).toEqual(all);
    expect([...all].map((id) => shop.attempts(id))).toEqual(Array(12).fill(2));
    expect(unverified(shop)).toEqual([]);
    expect(new Set(shop.received.map((x) => x.data.orderId))).toEqual(new Set(orders.values()));
  } finally {
    expect(await rescuer.stop()).toEqual({ code: 0, signal: null });
  }
  expect((await call("DELETE", `/admin/api/webhooks/${endpoint}`)).status).toBe(204);
});

test("an endpoint failing for its retry window is disabled (metric, reason), its events kept, and all delivered in order once enabled", async () => {
  const saleId = "wh-disable";
  const shop = await receiver();
  const endpoint = await createEndpoint(shop, ["order.confirmed", "order.paid"]);
  shop.mode = () => "error";
  const d = dispatcher({ retryForMs: 1500 });
  try {
    await openSale(saleId, 100, { deduction: "reserve", paymentTimeoutSeconds: 600 });
    const first = await buy(saleId, Array.from({ length: 5 }, (_, i) => `wh-disable-a${i}`));
    await waitFor("the endpoint disabled", async () => (await call("GET", `/admin/api/webhooks/${endpoint}`)).body.enabled === false, 20_000);
    const view = (await call("GET", `/admin/api/webhooks/${endpoint}`)).body;
    expect(view.disabledReason).toMatch(/^deliveries failed for 2 s \(last: answered 500\)$/);
    const text = await scrape(`${admin.url}/metrics`);
    expect(text.value("fs_webhook_endpoint_disabled", { endpoint })).toBe(1);
    expect(text.sum("fs_webhook_endpoint_disablements_total", { endpoint })).toBe(1);
    expect(text.value("fs_webhook_oldest_undelivered_seconds", { endpoint })).toBeGreaterThan(1);

    // Meanwhile: more orders, and payments of the first; nothing is sent, everything is kept.
    await new Promise((r) => setTimeout(r, 300));
    const tried = shop.received.length;
    const second = await buy(saleId, Array.from({ length: 5 }, (_, i) => `wh-disable-b${i}`));
    for (const [user, orderId] of first) {
      const paid = await request(`${stack.gateway.url}/api/orders/${orderId}/pay`, { method: "POST", headers: { Authorization: `Bearer ${signToken(user)}` } });
      expect(paid.status).toBe(200);
    }
    await waitFor("the new events fanned out", async () => {
      const { rows } = await stack.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND delivered_at IS NULL", [endpoint]);
      return rows[0]!.n === 15;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(shop.received.length).toBe(tried);
    const pending = await call("GET", `/admin/api/webhooks/${endpoint}/deliveries?status=pending`);
    expect(pending.body.deliveries).toHaveLength(15);
    expect(pending.body.deliveries.filter((x: { lastStatus: number | null }) => x.lastStatus === 500).length).toBe(5);

    shop.mode = () => "ok";
    const enabled = await call("PATCH", `/admin/api/webhooks/${endpoint}`, { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabledAt: null, disabledReason: null });
    const all = await outboxIds(saleId, ["order.confirmed", "order.paid"]);
    expect(all.size).toBe(15);
    await waitFor("every event accepted", () => [...all].every((id) => shop.accepted().has(id)), 20_000);
    expect(outOfOrder(shop, first.values())).toEqual([]);
    expect(unverified(shop)).toEqual([]);
    expect(new Set(shop.received.filter((x) => x.okAt !== undefined).map((x) => x.data.orderId))).toEqual(new Set([...first.values(), ...second.values()]));
  } finally {
    await d.stop();
  }
  expect((await call("DELETE", `/admin/api/webhooks/${endpoint}`)).status).toBe(204);
});

test("admin API: refusals write nothing; no secret shown but once; replay since; a rotated secret signs beside the old one", async () => {
  const count = async () => (await stack.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_endpoints")).rows[0]!.n;
  const before = await count();
  const strict = await serveAdminApp({ pool: stack.db.pool, redis: stack.redis, logger });
  try {
    const refusals: [ServedApp, unknown, RegExp][] = [
      [admin, { url: "ftp://shop.example/hooks" }, /url: must be an http or https URL/],
      [admin, { url: "not a url" }, /url: must be an absolute URL/],
      [admin, { url: "https://shop.example/h", events: ["order.shipped"] }, /events\.0: must be one of/],
      [admin, { url: "https://shop.example/h", events: [] }, /events: must name at least one event type/],
      [admin, { url: "https://shop.example/h", secret: "mine" }, /secret/],
      [admin, { url: "http://no-such-host.invalid/h" }, /does not resolve/],
      [strict, { url: "http://127.0.0.1:1/h" }, /127\.0\.0\.1, a private or reserved address/],
      [strict, { url: "http://[::1]:1/h" }, /::1, a private or reserved address/],
      [strict, { url: "http://localhost:1/h" }, /localhost resolves to .*private or reserved/],
      [strict, { url: "http://169.254.169.254/latest/meta-data" }, /private or reserved/],
    ];
    for (const [app, body, message] of refusals) {
      const res = await adminCall(app.url, "POST", "/admin/api/webhooks", body);
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: "bad_request" });
      expect(res.body.message).toMatch(message);
    }
    expect(await count()).toBe(before);
  } finally {
    await strict.close();
  }

  const shop = await receiver();
  const since = new Date(Date.now() - 3_600_000).toISOString();
  const endpoint = await createEndpoint(shop, ["order.confirmed"]);
  const oldSecret = shop.secrets[0]!;
  const listed = await call("GET", "/admin/api/webhooks");
  expect(listed.body.endpoints.map((e: { id: string }) => e.id)).toContain(endpoint);
  expect(JSON.stringify(listed.body)).not.toContain("whsec_");
  expect(JSON.stringify((await call("GET", `/admin/api/webhooks/${endpoint}`)).body)).not.toContain("whsec_");
  const badPatch = await call("PATCH", `/admin/api/webhooks/${endpoint}`, { url: "gopher://x" });
  expect(badPatch.status).toBe(400);
  expect((await call("GET", `/admin/api/webhooks/${endpoint}`)).body.url).toBe(shop.url);
  expect((await call("POST", `/admin/api/webhooks/${endpoint}/replay`, { since: "yesterday" })).status).toBe(400);
  expect((await call("GET", `/admin/api/webhooks/${endpoint}/deliveries?status=lost`)).status).toBe(400);
  expect((await call("POST", "/admin/api/webhooks/ep_nope/replay", { since })).status).toBe(404);

  const d = dispatcher();
  try {
    // Every order.confirmed of the earlier tests, sent again to this new endpoint.
    const { rows } = await stack.db.pool.query<{ seq: string }>("SELECT seq FROM webhook_events WHERE type = 'order.confirmed'");
    const all = new Set(rows.map((r) => `evt_${r.seq}`));
    expect(all.size).toBe(30 + 12 + 10);
    const replay = await call("POST", `/admin/api/webhooks/${endpoint}/replay`, { since });
    expect(replay).toEqual({ status: 202, body: { replayed: all.size } });
    await waitFor("the replay accepted", () => shop.accepted().size === all.size);
    expect(shop.accepted()).toEqual(all);
    // Each 2xx is recorded at the dispatcher's next turn.
    const delivered = () => call("GET", `/admin/api/webhooks/${endpoint}/deliveries?status=delivered`);
    await waitFor("the replay recorded delivered", async () => (await delivered()).body.deliveries.length === all.size);
    const page = await delivered();
    expect(page.body.deliveries).toHaveLength(all.size);
    expect(page.body.deliveries[0]).toMatchObject({ type: "order.confirmed", attempts: 1, lastStatus: 204, lastError: null, nextAttemptAt: null });

    // Rotated: both secrets sign for the grace period, so a receiver holding either verifies.
    const rotated = await call("POST", `/admin/api/webhooks/${endpoint}/rotate-secret`, { graceSeconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(oldSecret);
    expect(Date.parse(rotated.body.previousSecretUntil)).toBeGreaterThan(Date.now() + 3_500_000);
    shop.secrets = [oldSecret, rotated.body.secret];
    const seen = shop.received.length;
    await call("POST", `/admin/api/webhooks/${endpoint}/replay`, { since });
    await waitFor("the second replay received", () => shop.received.length >= seen + all.size);
    const afterRotation = shop.received.slice(seen);
    expect(afterRotation.filter((x) => !(x.verified[0] && x.verified[1]))).toEqual([]);
    // Without a grace period the old secret stops signing at once.
    const again = await call("POST", `/admin/api/webhooks/${endpoint}/rotate-secret`, { graceSeconds: 0 });
    shop.secrets = [rotated.body.secret, again.body.secret];
    const seen2 = shop.received.length;
    await call("POST", `/admin/api/webhooks/${endpoint}/replay`, { since });
    await waitFor("the third replay received", () => shop.received.length >= seen2 + all.size);
    expect(shop.received.slice(seen2).map((x) => x.verified)).toEqual(Array(all.size).fill([false, true]));
  } finally {
    await d.stop();
  }
});
