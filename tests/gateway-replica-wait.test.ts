/**
 * Durability mode "replica acknowledging" (knob redis_wait_replicas = 1): the purchase script and
 * WAIT go out in one pipeline. With the replica up, every 202's order is on the replica when the
 * shopper reads the 202. With the replica gone, an accepted order answers 503 unavailable with
 * its order id and a message that it may have been taken, is logged and counted
 * (outcome not_replicated), and is a real order: the shopper sees it, cannot buy a second unit,
 * and it reaches Postgres. Counted at the end.
 */
import { createRedis, type Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/contract/keys";
import { parseOrderId } from "@flash-sale/contract/ids";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { PrivateRedis } from "./support/private-redis";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { purchase, request } from "./support/http";
import { signToken } from "./support/tokens";
import { scrape } from "./support/prometheus";
import { waitFor } from "./support/stream-fixtures";

const WAIT_TIMEOUT_MS = 200;

let replicaServer: PrivateRedis;
let replica: Redis;

const stack = useStack(
  new TestStack({
    name: "replica_wait",
    knobs: { ...LOAD_TEST_KNOBS, redis_wait_replicas: "1", redis_wait_timeout_ms: String(WAIT_TIMEOUT_MS) },
    worker: {},
  }),
  async () => {
    replicaServer = await PrivateRedis.start({ replicaOf: stack.redisServer.port });
    stack.onStop(() => replicaServer.destroy());
    replica = createRedis(replicaServer.url(), "test-replica");
    stack.onStop(() => replica.disconnect());
  },
);

async function replicaOnline(): Promise<void> {
  await waitFor("the replica in sync", async () => /slave0:.*state=online/.test(await stack.redis.info("replication")));
}

function orderView(orderId: string, user: string) {
  return request(`${stack.gateway.url}/api/orders/${orderId}`, { headers: { Authorization: `Bearer ${signToken(user)}` } });
}

test("replica up → 202 with the order on the replica; replica gone → 503 'may have been taken', a real order, counted", async () => {
  await replicaOnline();
  const sale = await stack.controlPlane.createSale({ id: "replica-wait", stock: 30 });
  await waitForSale(stack.gateway, sale.id);
  const k = saleKeys(sale.id);

  // Replica up: each order is on the replica by the time its 202 arrives.
  const orders = new Map<string, string>();
  for (let i = 0; i < 10; i++) {
    const user = `acked-${i}`;
    const res = await purchase(stack.gateway.url, sale.id, signToken(user));
    expect(res.status).toBe(202);
    const orderId = res.json().orderId as string;
    const record = await replica.hget(k.orders, parseOrderId(orderId)!.orderNo);
    expect(record?.split("\t")[0]).toBe(user);
    orders.set(user, orderId);
  }

  await replicaServer.stop();
  const before = await scrape(stack.gateway.metricsUrl);
  const unconfirmed = new Map<string, string>();
  for (let i = 0; i < 5; i++) {
    const user = `unacked-${i}`;
    const startedAt = Date.now();
    const res = await purchase(stack.gateway.url, sale.id, signToken(user));
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(WAIT_TIMEOUT_MS - 5);
    expect([res.status, res.json().error]).toEqual([503, "unavailable"]);
    expect(res.json().message).toMatch(/may have been taken/);
    expect(res.json().orderMayExist).toBe(true);
    unconfirmed.set(user, res.json().orderId as string);
  }
  const after = await scrape(stack.gateway.metricsUrl);
  const notReplicated = (e: typeof after) => e.value("fs_gateway_requests_total", { route: "purchase", sale: sale.id, outcome: "not_replicated" }) ?? 0;
  expect(notReplicated(after) - notReplicated(before)).toBe(5);
  const logged = stack.gateway.errorLines().filter((l) => /accepted but acknowledged by 0 of 1 replicas/.test(l));
  expect(logged.length).toBe(5);
  // Each is a real order on the primary: its shopper sees it and holds the limit.
  for (const [user, orderId] of unconfirmed) {
    const view = await orderView(orderId, user);
    expect([view.status, view.json().orderId]).toEqual([200, orderId]);
    const again = await purchase(stack.gateway.url, sale.id, signToken(user));
    expect([again.status, again.json().error]).toEqual([409, "limit_reached"]);
  }

  // The replica back (a full resync): 202s again.
  await replicaServer.resume();
  await replicaOnline();
  for (let i = 0; i < 5; i++) {
    const user = `again-${i}`;
    const res = await purchase(stack.gateway.url, sale.id, signToken(user));
    expect(res.status).toBe(202);
    orders.set(user, res.json().orderId as string);
  }

  await waitForRows(stack.db.pool, sale.id, 20);
  const { rows } = await stack.db.pool.query<{ order_id: string; user_id: string }>("SELECT order_id, user_id FROM orders WHERE sale_id = $1", [sale.id]);
  expect(new Map(rows.map((r) => [r.user_id, r.order_id]))).toEqual(new Map([...orders, ...unconfirmed]));
  expect(await countSale(stack.redis, stack.db.pool, sale.id)).toEqual(balancedCount(20, 10));
  expect(await replica.hlen(k.orders)).toBe(40);
});
