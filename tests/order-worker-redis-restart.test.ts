/**
 * Redis restarts from its AOF (SIGKILL, then the same data back) holding entries pending in the
 * order group that no worker has in hand: a worker gone with the host had read them. The live
 * worker claims them as soon as its connection is back, not FS_WORKER_CLAIM_IDLE_MS (30 s as
 * shipped) after their last delivery; every order lands once and is confirmed.
 */
import { ORDER_CONSUMER_GROUP, saleKeys } from "@flash-sale/contract/keys";
import { createRedis, type Redis } from "@flash-sale/node-common";
import { PrivateRedis } from "./support/private-redis";
import { buyAll, type Attempt } from "./support/purchase-script";
import { drainState, drainedState, publishSale, startWorker, waitFor, type WorkerProcess } from "./support/stream-fixtures";
import { createTestDatabase, type TestDatabase } from "./support/test-database";

/** The shipped claim idle time: what the restored entries waited for before. */
const CLAIM_IDLE_MS = 30_000;
/** Far below it: a reconnect and a claim round. */
const DRAIN_BOUND_MS = 5_000;

let server: PrivateRedis;
let redis: Redis;
let db: TestDatabase;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  server = await PrivateRedis.start({ persistent: true });
  redis = createRedis(server.url(), "order-worker-redis-restart-test");
  db = await createTestDatabase("order_worker_redis_restart");
});

afterAll(async () => {
  worker?.child.kill("SIGKILL");
  redis.disconnect();
  await db.close();
  await server.destroy();
});

function users(prefix: string, n: number): Attempt[] {
  return Array.from({ length: n }, (_, i) => ({ userId: `${prefix}${i}`, qty: 1 }));
}

test("entries pending on a consumer gone with the Redis host are claimed as soon as Redis is back from its AOF, each order once", async () => {
  const sale = { id: "restart-pending", stock: 1000, perUserLimit: 1 };
  await publishSale(db.pool, redis, sale);
  const stream = saleKeys(sale.id).stream;
  await redis.call("XGROUP", ["CREATE", stream, ORDER_CONSUMER_GROUP, "0", "MKSTREAM"]);
  const orphaned = await buyAll(redis, sale.id, users("gone", 50), 1);
  // Read and never acknowledged by a consumer that never comes back.
  await redis.call("XREADGROUP", ["GROUP", ORDER_CONSUMER_GROUP, "w-gone", "COUNT", 1000, "STREAMS", stream, ">"]);

  worker = startWorker({ redisUrl: server.url(), databaseUrl: db.url, name: "w-live", env: { FS_WORKER_CLAIM_IDLE_MS: String(CLAIM_IDLE_MS) } });
  const drained = await buyAll(redis, sale.id, users("live", 50), 1);
  await waitFor("the live worker's orders", async () => (await drainState(db.pool, redis, drained)).notConfirmed.length === 0);

  await server.stop();
  await server.resume();
  const restartedAt = Date.now();
  const all = [...orphaned, ...drained];
  await waitFor("every order drained", async () => JSON.stringify(await drainState(db.pool, redis, all)) === JSON.stringify(drainedState(all)), CLAIM_IDLE_MS + 10_000);
  const drainMs = Date.now() - restartedAt;
  expect(drainMs).toBeLessThan(DRAIN_BOUND_MS);
  expect(worker.logs.some((l) => l.msg === "Redis connection back: claiming the group's pending entries at once")).toBe(true);
  expect(worker.logs.filter((l) => l.msg === "claimed entries left pending too long").reduce((n, l) => n + Number(l.entries), 0)).toBe(orphaned.length);
  console.log(`${orphaned.length} orphaned entries drained ${drainMs} ms after Redis restarted from its AOF`);
});
