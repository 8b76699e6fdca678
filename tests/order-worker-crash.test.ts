/**
 * A worker SIGKILLed in the middle of a batch (FS_WORKER_FAULT, see order-worker/src/faults.ts)
 * loses and duplicates nothing: its entries stay pending, another worker claims them (or the
 * same consumer re-reads them after a restart) and inserts them again as no-ops.
 */
import { createRedis, type Redis } from "@flash-sale/node-common";
import { PrivateRedis } from "./support/private-redis";
import { buyAll, type AcceptedOrder, type Attempt } from "./support/purchase-script";
import { drainState, drainedState, publishSale, startWorker, waitFor, type WorkerProcess } from "./support/stream-fixtures";
import { createTestDatabase, type TestDatabase } from "./support/test-database";

let server: PrivateRedis;
let redis: Redis;
let db: TestDatabase;
let workers: WorkerProcess[] = [];

const BATCH = 100;

function worker(name: string, fault?: string): WorkerProcess {
  const env: Record<string, string> = fault === undefined ? {} : { FS_WORKER_FAULT: fault };
  const w = startWorker({ redisUrl: server.url(), databaseUrl: db.url, name, batchSize: BATCH, env });
  workers.push(w);
  return w;
}

/**
 * 250 users once, 50 of them a second time (limit 2): 300 accepted orders. The first BATCH
 * are bought before the doomed worker starts, so its first batch is its only one (it writes
 * two at once); the rest after it died.
 */
function attempts(from: number, to: number): Attempt[] {
  return Array.from({ length: to - from }, (_, i) => ({ userId: `u${(from + i) % 250}`, qty: 1 }));
}

async function openSale(id: string): Promise<AcceptedOrder[]> {
  await publishSale(db.pool, redis, { id, stock: 1000, perUserLimit: 2 });
  const first = await buyAll(redis, id, attempts(0, BATCH), 2);
  expect(first).toHaveLength(BATCH);
  return first;
}

async function buyTheRest(id: string, first: AcceptedOrder[]): Promise<AcceptedOrder[]> {
  const rest = await buyAll(redis, id, attempts(BATCH, 300), 2);
  expect(rest).toHaveLength(300 - BATCH);
  return [...first, ...rest];
}

async function rowCount(): Promise<number> {
  return Number((await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM orders")).rows[0]?.n);
}

async function drainWith(w: WorkerProcess, orders: AcceptedOrder[]): Promise<void> {
  const want = JSON.stringify(drainedState(orders));
  await waitFor("the drain", async () => JSON.stringify(await drainState(db.pool, redis, orders)) === want);
  expect(await drainState(db.pool, redis, orders)).toEqual(drainedState(orders));
  expect(drainedState(orders).distinctBuyers).toBe(250);
  expect(await w.stop()).toEqual({ code: 0, signal: null });
}

beforeAll(async () => {
  server = await PrivateRedis.start();
  redis = createRedis(server.url(), "order-worker-crash-test");
  db = await createTestDatabase("order_worker_crash");
});

beforeEach(async () => {
  await redis.flushall();
  await db.pool.query("TRUNCATE orders, sales");
});

afterEach(() => {
  for (const w of workers) w.child.kill("SIGKILL");
  workers = [];
});

afterAll(async () => {
  redis.disconnect();
  await db.close();
  await server.stop();
});

test("SIGKILL between commit and ack: another worker claims the batch, every order lands once", async () => {
  const first = await openSale("crash-commit");

  const doomed = worker("w-doomed", "kill-after-commit");
  expect(await doomed.exited).toEqual({ code: null, signal: "SIGKILL" });
  // The batch is in Postgres, but unacknowledged: still pending, still `pending` in Redis.
  expect(await rowCount()).toBe(BATCH);
  const crashed = await drainState(db.pool, redis, first);
  expect(crashed.pending).toBe(BATCH);
  expect(crashed.notConfirmed).toHaveLength(BATCH);

  const orders = await buyTheRest("crash-commit", first);
  const rescuer = worker("w-rescuer");
  await drainWith(rescuer, orders);
  expect(rescuer.logs.some((l) => l.msg === "claimed entries idle in other consumers")).toBe(true);
  const skipped = rescuer.logs.filter((l) => l.msg === "redelivered orders already in Postgres: skipped");
  expect(skipped.reduce((n, l) => n + (l.orders as number), 0)).toBe(BATCH);
});

test("SIGKILL mid-batch (before COMMIT): nothing of the batch is written, another worker lands all once", async () => {
  const first = await openSale("crash-mid");

  const doomed = worker("w-doomed", "kill-mid-batch");
  expect(await doomed.exited).toEqual({ code: null, signal: "SIGKILL" });
  expect(await rowCount()).toBe(0);
  expect((await drainState(db.pool, redis, first)).pending).toBe(BATCH);

  const orders = await buyTheRest("crash-mid", first);
  const rescuer = worker("w-rescuer");
  await drainWith(rescuer, orders);
  expect(rescuer.logs.some((l) => l.msg === "claimed entries idle in other consumers")).toBe(true);
});

test("SIGKILL mid-batch, restarted under the same name: it re-reads its own pending entries first", async () => {
  const first = await openSale("crash-same");

  const doomed = worker("w-same", "kill-mid-batch");
  expect(await doomed.exited).toEqual({ code: null, signal: "SIGKILL" });
  expect(await rowCount()).toBe(0);

  const orders = await buyTheRest("crash-same", first);
  const again = worker("w-same");
  await drainWith(again, orders);
  expect(again.logs.some((l) => l.msg === "re-reading this consumer's pending entries")).toBe(true);
});
