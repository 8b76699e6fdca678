/**
 * Redis restarts from its AOF (SIGKILL, then the same data back) holding entries pending in the
 * order group that no worker has in hand: a worker gone with the host had read them. The live
 * worker claims them as soon as its connection is back, not FS_WORKER_CLAIM_IDLE_MS (30 s as
 * shipped) after their last delivery; every order lands once and is confirmed.
 */
import { ORDER_CONSUMER_GROUP, saleKeys } from "@flash-sale/contract/keys";
import type { Redis } from "@flash-sale/node-common";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { buyAll, type Attempt } from "./support/purchase-script";
import { drainState, drainedState, publishSale, startWorker, waitFor, type WorkerProcess } from "./support/stream-fixtures";

/** The shipped claim idle time: what the restored entries waited for before. */
const CLAIM_IDLE_MS = 30_000;
/** Far below it: a reconnect and a claim round. */
const DRAIN_BOUND_MS = 5_000;

let worker: WorkerProcess | undefined;

const stack = useStack(new TestStack({ name: "order_worker_redis_restart", persistentRedis: true, gateway: false, controlPlane: false }), async () => {
  stack.onStop(() => worker?.child.kill("SIGKILL"));
});

function users(prefix: string, n: number): Attempt[] {
  return Array.from({ length: n }, (_, i) => ({ userId: `${prefix}${i}`, qty: 1 }));
}

test("entries pending on a consumer gone with the Redis host are claimed as soon as Redis is back from its AOF, each order once", async () => {
  const sale = { id: "restart-pending", stock: 1000, perUserLimit: 1 };
  await publishSale(stack.db.pool, stack.redis, sale);
  const stream = saleKeys(sale.id).stream;
  await stack.redis.call("XGROUP", ["CREATE", stream, ORDER_CONSUMER_GROUP, "0", "MKSTREAM"]);
  const orphaned = await buyAll(stack.redis, sale.id, users("gone", 50), 1);
  // Read and never acknowledged by a consumer that never comes back.
  await stack.redis.call("XREADGROUP", ["GROUP", ORDER_CONSUMER_GROUP, "w-gone", "COUNT", 1000, "STREAMS", stream, ">"]);

  worker = startWorker({ redisUrl: stack.redisServer.url(), databaseUrl: stack.db.url, name: "w-live", env: { FS_WORKER_CLAIM_IDLE_MS: String(CLAIM_IDLE_MS) } });
  const drained = await buyAll(stack.redis, sale.id, users("live", 50), 1);
  await waitFor("the live worker's orders", async () => (await drainState(stack.db.pool, stack.redis, drained)).notConfirmed.length === 0);

  await stack.redisServer.stop();
  await stack.redisServer.resume();
  const restartedAt = Date.now();
  const all = [...orphaned, ...drained];
  await waitFor("every order drained", async () => JSON.stringify(await drainState(stack.db.pool, stack.redis, all)) === JSON.stringify(drainedState(all)), CLAIM_IDLE_MS + 10_000);
  const drainMs = Date.now() - restartedAt;
  expect(drainMs).toBeLessThan(DRAIN_BOUND_MS);
  expect(worker.logs.some((l) => l.msg === "Redis connection back: claiming the group's pending entries at once")).toBe(true);
  expect(worker.logs.filter((l) => l.msg === "claimed entries left pending too long").reduce((n, l) => n + Number(l.entries), 0)).toBe(orphaned.length);
  console.log(`${orphaned.length} orphaned entries drained ${drainMs} ms after Redis restarted from its AOF`);
});
