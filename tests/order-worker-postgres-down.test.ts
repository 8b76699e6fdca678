/**
 * Postgres goes away mid-sale: the purchase script keeps accepting orders (Redis alone), the
 * worker keeps its batch and retries with backoff, logging each retry, and once Postgres is
 * back every accepted order lands exactly once, and so does every status change (payments made
 * while it was down); a restart while the worker's transactions are open does not kill it.
 * Uses a private Postgres it can stop.
 */
import { parseOrderId } from "@flash-sale/contract/ids";
import { ORDER_CONSUMER_GROUP, saleKeys } from "@flash-sale/contract/keys";
import { payOrder } from "../control-plane/src/payments/order-payment";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { balancedCount, countSale, countStatusChanges, postgresOrderStatuses, waitForStatuses } from "./support/counts";
import { scrape } from "./support/prometheus";
import { buyAll } from "./support/purchase-script";
import { drainState, drainedState, publishSale, startWorker, waitFor, type WorkerProcess } from "./support/stream-fixtures";

let worker: WorkerProcess | undefined;

const stack = useStack(new TestStack({ name: "order_worker_postgres_down", database: "private", gateway: false, controlPlane: false }), async () => {
  stack.onStop(() => worker?.child.kill("SIGKILL"));
});

test("Postgres down: orders are still accepted, the worker retries with backoff, then lands each once", async () => {
  const sale = { id: "pg-down", stock: 1000, perUserLimit: 1 };
  await publishSale(stack.db.pool, stack.redis, sale);
  worker = startWorker({ redisUrl: stack.redisServer.url(), databaseUrl: stack.postgres.url(), name: "w-pg", batchSize: 50 });

  const early = await buyAll(stack.redis, sale.id, Array.from({ length: 100 }, (_, i) => ({ userId: `early${i}`, qty: 1 })), 1);
  const drained = async (orders: typeof early) =>
    JSON.stringify(await drainState(stack.db.pool, stack.redis, orders)) === JSON.stringify(drainedState(orders));
  await waitFor("the first orders", () => drained(early));

  await stack.postgres.stop();
  const late = await buyAll(stack.redis, sale.id, Array.from({ length: 200 }, (_, i) => ({ userId: `late${i}`, qty: 1 })), 1);
  expect(late).toHaveLength(200);
  const retries = () => worker?.logs.filter((l) => l.what === "postgres insert" && typeof l.retryInMs === "number") ?? [];
  await waitFor("a fifth retry of a batch", () => retries().some((l) => l.attempt === 5));

  // One readable line per retry; per batch the delay doubles from 100 ms up to
  // FS_WORKER_BACKOFF_MAX_MS (1000 here), and the batch is kept (not acknowledged).
  for (const line of retries()) {
    const attempt = line.attempt as number;
    expect(line.retryInMs).toBe(Math.min(100 * 2 ** (attempt - 1), 1000));
    expect(String(line.msg)).toMatch(new RegExp(`^postgres insert failed \\(.+\\); retry ${attempt} in ${line.retryInMs} ms$`));
  }
  expect((await stack.redis.xpending(saleKeys(sale.id).stream, ORDER_CONSUMER_GROUP))[0]).toBeGreaterThan(0);

  await stack.postgres.start();
  const all = [...early, ...late];
  await waitFor("the drain after Postgres came back", () => drained(all));
  expect(await drainState(stack.db.pool, stack.redis, all)).toEqual(drainedState(all));
  expect(await worker.stop()).toEqual({ code: 0, signal: null });
});

test("SIGTERM while Postgres is down: exit 0 at once, the batch left pending for the next worker", async () => {
  const sale = { id: "pg-down-stop", stock: 100, perUserLimit: 1 };
  await publishSale(stack.db.pool, stack.redis, sale);
  await stack.postgres.stop();
  const orders = await buyAll(stack.redis, sale.id, Array.from({ length: 20 }, (_, i) => ({ userId: `s${i}`, qty: 1 })), 1);
  worker = startWorker({ redisUrl: stack.redisServer.url(), databaseUrl: stack.postgres.url(), name: "w-stop", batchSize: 50 });
  const stopping = worker;
  await waitFor("a logged retry", () => stopping.logs.some((l) => l.what === "postgres insert"));

  const stopAt = Date.now();
  expect(await stopping.stop()).toEqual({ code: 0, signal: null });
  expect(Date.now() - stopAt).toBeLessThan(3000);
  expect(stopping.logs.some((l) => String(l.msg).startsWith("stopping with a batch unwritten"))).toBe(true);
  expect((await stack.redis.xpending(saleKeys(sale.id).stream, ORDER_CONSUMER_GROUP))[0]).toBe(20);

  await stack.postgres.start();
  worker = startWorker({ redisUrl: stack.redisServer.url(), databaseUrl: stack.postgres.url(), name: "w-next", batchSize: 50 });
  const drained = async () => JSON.stringify(await drainState(stack.db.pool, stack.redis, orders)) === JSON.stringify(drainedState(orders));
  await waitFor("the drain by the next worker", drained);
  expect(await drainState(stack.db.pool, stack.redis, orders)).toEqual(drainedState(orders));
  expect(await worker.stop()).toEqual({ code: 0, signal: null });
});

test("Postgres restarts while the worker's transactions are open: the worker lives on and lands each order once", async () => {
  const sale = { id: "pg-restart", stock: 3000, perUserLimit: 1 };
  await publishSale(stack.db.pool, stack.redis, sale);
  // A lock the worker's INSERT waits for: its transaction is open when Postgres goes down.
  const blocker = await stack.db.pool.connect();
  await blocker.query("BEGIN");
  await blocker.query("LOCK TABLE orders IN SHARE MODE");
  const early = await buyAll(stack.redis, sale.id, Array.from({ length: 1000 }, (_, i) => ({ userId: `r${i}`, qty: 1 })), 1);
  worker = startWorker({ redisUrl: stack.redisServer.url(), databaseUrl: stack.postgres.url(), name: "w-restart", batchSize: 100 });
  const waiting = async () =>
    (
      await stack.db.pool.query(
        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO orders%' AND pid <> pg_backend_pid()",
      )
    ).rowCount! > 0;
  await waitFor("the worker's INSERT waiting on the lock", waiting);

  await stack.postgres.stop();
  blocker.release(true);
  const during = await buyAll(stack.redis, sale.id, Array.from({ length: 1000 }, (_, i) => ({ userId: `d${i}`, qty: 1 })), 1);
  await stack.postgres.start();
  const all = [...early, ...during];
  const running = worker;
  const drained = async () => {
    if (running.child.exitCode !== null || running.child.signalCode !== null) throw new Error(`the worker exited:\n${running.stderr()}`);
    return JSON.stringify(await drainState(stack.db.pool, stack.redis, all)) === JSON.stringify(drainedState(all));
  };
  await waitFor("the drain after the restart", drained, 60_000);
  expect(await drainState(stack.db.pool, stack.redis, all)).toEqual(drainedState(all));
  expect(await stack.redis.xlen(saleKeys(sale.id).stream)).toBe(all.length);
  // The sessions Postgres ended: the queries failed (retried), the clients' 'error' was heard.
  expect(running.logs.some((l) => l.msg === "postgres connection lost")).toBe(true);
  expect(running.logs.some((l) => l.what === "postgres insert" && l.error === "terminating connection due to administrator command")).toBe(true);
  expect(await worker.stop()).toEqual({ code: 0, signal: null });
});

test("Postgres down while orders are paid: the status changes are kept, retried with backoff, and each set once; counted", async () => {
  const sale = { id: "pg-down-statuses", stock: 100, perUserLimit: 1, deduction: "reserve" as const };
  await publishSale(stack.db.pool, stack.redis, sale);
  worker = startWorker({ redisUrl: stack.redisServer.url(), databaseUrl: stack.postgres.url(), name: "w-statuses", batchSize: 50 });
  const orders = await buyAll(stack.redis, sale.id, Array.from({ length: 50 }, (_, i) => ({ userId: `p${i}`, qty: 1 })), 1);
  await waitFor("the orders", async () => JSON.stringify(await drainState(stack.db.pool, stack.redis, orders)) === JSON.stringify(drainedState(orders)));

  await stack.postgres.stop();
  for (const o of orders.slice(0, 30)) expect((await payOrder(stack.redis, parseOrderId(o.orderId)!, "reserve")).outcome).toBe("paid");
  const running = worker;
  const retries = () => running.logs.filter((l) => l.what === "postgres status update" && typeof l.retryInMs === "number");
  await waitFor("a third retry of the status changes", () => retries().some((l) => l.attempt === 3));
  expect(await countStatusChanges(stack.redis, sale.id)).toEqual({ entries: 30, unacknowledged: 30 });

  await stack.postgres.start();
  await waitForStatuses(stack.redis, stack.db.pool, sale.id, "reserved");
  expect(await postgresOrderStatuses(stack.db.pool, sale.id, "reserved")).toEqual({ paid: 30, reserved: 20 });
  expect(await countStatusChanges(stack.redis, sale.id)).toEqual({ entries: 30, unacknowledged: 0 });
  const count = await countSale(stack.redis, stack.db.pool, sale.id);
  expect(count).toEqual(balancedCount(50, 50)); // reserve: the units were taken at acceptance
  // Claimed again while the outage held them (idle past FS_WORKER_CLAIM_IDLE_MS) or not: set once each.
  expect((await scrape(running.metricsUrl()!)).sum("fs_worker_statuses_applied_total", { sale: sale.id })).toBe(30);
  expect(await worker.stop()).toEqual({ code: 0, signal: null });
});
