/**
 * A worker SIGKILLed in the middle of a batch (FS_WORKER_FAULT, see order-worker/src/faults.ts)
 * loses and duplicates nothing: its entries stay pending, another worker claims them (or the
 * same consumer, its name stable across restarts, re-reads them at once) and inserts them
 * again as no-ops.
 */
import os from "node:os";
import { ORDER_CONSUMER_GROUP, saleKeys } from "@flash-sale/contract/keys";
import { ORDER_FIELDS } from "@flash-sale/contract/stream";
import { buyAll, type AcceptedOrder, type Attempt } from "./support/purchase-script";
import { drainState, drainedState, publishSale, waitFor, type WorkerProcess } from "./support/stream-fixtures";
import { useWorkerBench } from "./support/worker-bench";

const bench = useWorkerBench("order-worker-crash");

const BATCH = 100;

/** name "": the default consumer name. */
function worker(name: string, fault?: string, extra: Record<string, string> = {}): WorkerProcess {
  return bench.worker(name, { batchSize: BATCH, env: fault === undefined ? extra : { ...extra, FS_WORKER_FAULT: fault } });
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
  await publishSale(bench.db.pool, bench.redis, { id, stock: 1000, perUserLimit: 2 });
  const first = await buyAll(bench.redis, id, attempts(0, BATCH), 2);
  expect(first).toHaveLength(BATCH);
  return first;
}

async function buyTheRest(id: string, first: AcceptedOrder[]): Promise<AcceptedOrder[]> {
  const rest = await buyAll(bench.redis, id, attempts(BATCH, 300), 2);
  expect(rest).toHaveLength(300 - BATCH);
  return [...first, ...rest];
}

async function rowCount(): Promise<number> {
  return Number((await bench.db.pool.query<{ n: string }>("SELECT count(*) AS n FROM orders")).rows[0]?.n);
}

async function drainWith(w: WorkerProcess, orders: AcceptedOrder[], buyers = 250): Promise<void> {
  const want = JSON.stringify(drainedState(orders));
  await waitFor("the drain", async () => JSON.stringify(await drainState(bench.db.pool, bench.redis, orders)) === want);
  expect(await drainState(bench.db.pool, bench.redis, orders)).toEqual(drainedState(orders));
  expect(drainedState(orders).distinctBuyers).toBe(buyers);
  expect(await w.stop()).toEqual({ code: 0, signal: null });
}

/** The order id a stream entry carries. */
async function orderIdOf(stream: string, entryId: string): Promise<string> {
  const [[, fields] = ["", []]] = await bench.redis.xrange(stream, entryId, entryId);
  return fields[fields.indexOf(ORDER_FIELDS.orderId) + 1] as string;
}

test("SIGKILL between commit and ack: another worker claims the batch, every order lands once", async () => {
  const first = await openSale("crash-commit");

  const doomed = worker("w-doomed", "kill-after-commit");
  expect(await doomed.exited).toEqual({ code: null, signal: "SIGKILL" });
  // The batch is in Postgres, but unacknowledged: still pending, still `pending` in Redis.
  expect(await rowCount()).toBe(BATCH);
  const crashed = await drainState(bench.db.pool, bench.redis, first);
  expect(crashed.pending).toBe(BATCH);
  expect(crashed.notConfirmed).toHaveLength(BATCH);

  const orders = await buyTheRest("crash-commit", first);
  // Claims every 2 s, not 0.5: a batch of its own still in flight for longer under a loaded CI
  // would be claimed again and its orders counted as skipped twice (harmless, not what is counted).
  const rescuer = worker("w-rescuer", undefined, { FS_WORKER_CLAIM_IDLE_MS: "2000" });
  await drainWith(rescuer, orders);
  expect(rescuer.logs.some((l) => l.msg === "claimed entries left pending too long")).toBe(true);
  const skipped = rescuer.logs.filter((l) => l.msg === "redelivered orders already in Postgres: skipped");
  expect(skipped.reduce((n, l) => n + (l.orders as number), 0)).toBe(BATCH);
});

test("SIGKILL mid-batch (before COMMIT): nothing of the batch is written, another worker lands all once", async () => {
  const first = await openSale("crash-mid");

  const doomed = worker("w-doomed", "kill-mid-batch");
  expect(await doomed.exited).toEqual({ code: null, signal: "SIGKILL" });
  expect(await rowCount()).toBe(0);
  expect((await drainState(bench.db.pool, bench.redis, first)).pending).toBe(BATCH);

  const orders = await buyTheRest("crash-mid", first);
  const rescuer = worker("w-rescuer");
  await drainWith(rescuer, orders);
  expect(rescuer.logs.some((l) => l.msg === "claimed entries left pending too long")).toBe(true);
});

test("SIGKILL mid-backlog, restarted under the default name (the host's): its pending entries move again within 5 s", async () => {
  const id = "crash-same";
  await publishSale(bench.db.pool, bench.redis, { id, stock: 3000, perUserLimit: 1 });
  const orders = await buyAll(bench.redis, id, Array.from({ length: 2000 }, (_, i) => ({ userId: `b${i}`, qty: 1 })), 1);
  // No claims of idle entries: only re-reading its own pending entries can land the killed batches.
  const noClaims = { FS_WORKER_CLAIM_IDLE_MS: "600000" };

  const doomed = worker("", "kill-mid-batch", noClaims);
  expect(await doomed.exited).toEqual({ code: null, signal: "SIGKILL" });
  expect(doomed.logs.find((l) => l.msg === "order worker started")?.consumer).toBe(os.hostname());
  expect(await rowCount()).toBe(0);
  const stream = saleKeys(id).stream;
  const left = (await bench.redis.xpending(stream, ORDER_CONSUMER_GROUP, "-", "+", 10_000, os.hostname())) as [string, ...unknown[]][];
  expect(left.length).toBeGreaterThanOrEqual(BATCH);
  const leftOrders = await Promise.all(left.map(async ([entryId]) => orderIdOf(stream, entryId)));

  const restartedAt = Date.now();
  const again = worker("", undefined, noClaims);
  await waitFor("the first row after the restart", async () => (await rowCount()) > 0, 5000);
  await waitFor(
    "the killed worker's pending orders in Postgres",
    async () => Number((await bench.db.pool.query("SELECT count(*) FROM orders WHERE order_id = ANY($1)", [leftOrders])).rows[0].count) === left.length,
    5000 - (Date.now() - restartedAt),
  );
  expect(again.logs.some((l) => l.msg === "re-reading this consumer's pending entries")).toBe(true);
  await drainWith(again, orders, 2000);
});
