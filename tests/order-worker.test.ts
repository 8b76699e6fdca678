/**
 * The order worker against a real Redis (private) and Postgres (a test database): streams are
 * filled by the gateway's own purchase script, the worker runs as a child process.
 */
import { ORDER_CONSUMER_GROUP, saleKeys } from "@flash-sale/contract/keys";
import { RedisScript } from "@flash-sale/node-common";
import { CONFIRM_ORDERS } from "@flash-sale/contract/scripts/order";
import { CONFIRM_CHUNK, ORDER_COST } from "../order-worker/src/order-confirmer";
import { buyAll, type AcceptedOrder, type Attempt } from "./support/purchase-script";
import { drainState, drainedState, insertSaleRow, publishSale, publishSaleConfig, waitFor } from "./support/stream-fixtures";
import { ScriptSlowlog } from "./support/script-slowlog";
import { useWorkerBench } from "./support/worker-bench";

const bench = useWorkerBench("order-worker");

function users(prefix: string, n: number, qty = 1): Attempt[] {
  return Array.from({ length: n }, (_, i) => ({ userId: `${prefix}${i}`, qty }));
}

test("drains every accepted order exactly once, confirms it, and exits 0 on SIGTERM", async () => {
  const a = { id: "drain-a", stock: 150, perUserLimit: 2 };
  const b = { id: "drain-b", stock: 1000, perUserLimit: 3 };
  await publishSale(bench.db.pool, bench.redis, a);
  await publishSale(bench.db.pool, bench.redis, b);

  // Accepted before the worker runs: 100 users once, then 50 of them a second time (sold out).
  const before = await buyAll(bench.redis, a.id, [...users("u", 100), ...users("u", 100)], a.perUserLimit);
  expect(before).toHaveLength(150);
  const w = bench.worker("w-drain");
  // Accepted while it runs: 3 units each, and a 4th unit the limit refuses.
  const during = await buyAll(bench.redis, b.id, [...users("v", 80, 3), ...users("v", 20, 1)], b.perUserLimit);
  expect(during).toHaveLength(80);
  const all = [...before, ...during];

  await waitFor("the drain", () => bench.drained(all));
  expect(await drainState(bench.db.pool, bench.redis, all)).toEqual(drainedState(all));
  expect(drainedState(all).distinctBuyers).toBe(180);
  const units = await bench.db.pool.query<{ sale_id: string; units: string }>(
    "SELECT sale_id, sum(quantity) AS units FROM orders GROUP BY sale_id ORDER BY sale_id",
  );
  expect(units.rows).toEqual([
    { sale_id: a.id, units: "150" },
    { sale_id: b.id, units: "240" },
  ]);

  expect(await w.stop()).toEqual({ code: 0, signal: null });
  expect(w.logs.map((l) => l.msg)).toContain("stopped");
});

test("a batch held by a slow Postgres past the claim idle time is not claimed back by its own worker: written once", async () => {
  const sale = { id: "slow-pg", stock: 100, perUserLimit: 1 };
  await publishSale(bench.db.pool, bench.redis, sale);
  const w = bench.worker("w-slow-pg");
  // Postgres holds every insert into orders until the lock goes: 6 claim idle times (500 ms).
  const locker = await bench.db.pool.connect();
  let orders: AcceptedOrder[] = [];
  try {
    await locker.query("BEGIN");
    await locker.query("LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE");
    orders = await buyAll(bench.redis, sale.id, users("slow", 30), sale.perUserLimit);
    // Delivered to the worker (its group may not exist yet: the worker creates it).
    const pending = () => bench.redis.xpending(saleKeys(sale.id).stream, ORDER_CONSUMER_GROUP).then((p) => Number(p[0]), () => 0);
    await waitFor("the batch read", async () => (await pending()) === 30);
    await new Promise((r) => setTimeout(r, 3000));
  } finally {
    await locker.query("COMMIT");
    locker.release();
  }
  await waitFor("the drain", () => bench.drained(orders));
  expect(await drainState(bench.db.pool, bench.redis, orders)).toEqual(drainedState(orders));
  // No claim round while the batch is held; one that raced that check leaves what it took to the batch.
  const entriesOf = (msg: string) => w.logs.filter((l) => l.msg === msg).reduce((n, l) => n + Number(l.entries), 0);
  expect(entriesOf("claimed entries already in hand: left to their batch")).toBe(entriesOf("claimed entries left pending too long"));
  expect(w.logs.map((l) => l.msg)).not.toContain("redelivered orders already in Postgres: skipped");
  expect(await w.stop()).toEqual({ code: 0, signal: null });
});

test("SIGTERM with a backlog: the batch in hand is committed and acknowledged, then exit 0", async () => {
  const sale = { id: "backlog", stock: 3000, perUserLimit: 1 };
  await publishSale(bench.db.pool, bench.redis, sale);
  const orders = await buyAll(bench.redis, sale.id, users("u", 3000), sale.perUserLimit);
  expect(orders).toHaveLength(3000);

  const first = bench.worker("w-first", { batchSize: 100 });
  await waitFor("the first rows", async () => (await bench.db.pool.query("SELECT 1 FROM orders LIMIT 1")).rowCount === 1);
  expect(await first.stop()).toEqual({ code: 0, signal: null });

  // Nothing the stopped worker read is left unacknowledged, and everything it read is in Postgres.
  const state = await drainState(bench.db.pool, bench.redis, orders);
  expect(state.undelivered).toBeGreaterThan(0); // it did stop mid-backlog
  expect(state.pending).toBe(0);
  expect(state.unexpected).toEqual([]);
  expect(state.rows).toBe(3000 - state.undelivered);
  expect(state.notConfirmed).toHaveLength(state.undelivered);

  const second = bench.worker("w-second", { batchSize: 100 });
  await waitFor("the drain", () => bench.drained(orders));
  expect(await drainState(bench.db.pool, bench.redis, orders)).toEqual(drainedState(orders));
  expect(await second.stop()).toEqual({ code: 0, signal: null });
});

test("malformed entries are logged, acknowledged and skipped; orders of a sale missing in Postgres wait for it", async () => {
  const sale = { id: "mixed", stock: 100, perUserLimit: 1 };
  const ghost = { id: "ghost", stock: 100, perUserLimit: 1 };
  await publishSale(bench.db.pool, bench.redis, sale);
  await publishSaleConfig(bench.redis, ghost); // published in Redis, but no row in Postgres yet

  const stream = saleKeys(sale.id).stream;
  const good = await buyAll(bench.redis, sale.id, users("u", 10), 1);
  const good2: AcceptedOrder[] = [];
  const now = String(Date.now());
  const malformed: string[][] = [
    ["order", `${sale.id}.1.999`], // most fields missing
    ["order", `${sale.id}.1.998`, "sale", sale.id, "user", "x1", "qty", "abc", "uunits", "1", "at", now, "rid", "r"],
    ["order", "other.1.5", "sale", "other", "user", "x2", "qty", "1", "uunits", "1", "at", now, "rid", "r"],
    ["order", `${sale.id}.1.997`, "sale", sale.id, "user", "x3", "qty", "2", "uunits", "1", "at", now, "rid", "r"],
    ["foo", "bar"],
  ];
  for (const fields of malformed) {
    await bench.redis.xadd(stream, "*", ...fields);
    good2.push(...(await buyAll(bench.redis, sale.id, users(`after-${good2.length}-`, 2), 1)));
  }
  const ghostOrders = await buyAll(bench.redis, ghost.id, users("g", 5), 1);
  const orders = [...good, ...good2];
  expect(orders).toHaveLength(20);

  const w = bench.worker("w-mixed", { batchSize: 7 });
  await waitFor("the good orders", () => bench.drained(orders));
  expect(await drainState(bench.db.pool, bench.redis, orders)).toEqual(drainedState(orders));
  const skipped = w.logs.filter((l) => l.msg === "malformed order entry: acknowledged and skipped");
  expect(skipped.map((l) => l.reason)).toEqual([
    "missing sale",
    "bad qty",
    "order of another sale",
    "bad uunits",
    "missing order",
  ]);

  // The ghost sale's orders are neither written nor acknowledged: nothing is lost.
  const waiting = await drainState(bench.db.pool, bench.redis, ghostOrders);
  expect(waiting.rows).toBe(0);
  expect(waiting.pending).toBe(5);
  expect(w.logs.some((l) => l.msg === "orders for sales missing in Postgres left pending")).toBe(true);

  // Once the sale's row exists, the next claim round lands them.
  await insertSaleRow(bench.db.pool, ghost);
  await waitFor("the ghost sale's orders", () => bench.drained(ghostOrders));
  expect(await drainState(bench.db.pool, bench.redis, ghostOrders)).toEqual(drainedState(ghostOrders));
  expect(await w.stop()).toEqual({ code: 0, signal: null });
});

test("Redis restarts empty: the worker retries its reads, re-creates the group and drains the new sale", async () => {
  const w = bench.worker("w-redis");
  const before = { id: "before-restart", stock: 10, perUserLimit: 1 };
  await publishSale(bench.db.pool, bench.redis, before);
  const early = await buyAll(bench.redis, before.id, users("u", 10), 1);
  await waitFor("the first orders", () => bench.drained(early));

  await bench.server.stop();
  await waitFor("a logged read retry", () => w.logs.some((l) => l.what === "redis read" && typeof l.retryInMs === "number"));
  await bench.server.resume(); // no persistence: the sales, streams and the group are gone

  const after = { id: "after-restart", stock: 10, perUserLimit: 1 };
  await publishSale(bench.db.pool, bench.redis, after);
  const late = await buyAll(bench.redis, after.id, users("v", 10), 1);
  await waitFor("the new sale's orders", () => bench.drained(late));
  expect(await drainState(bench.db.pool, bench.redis, late)).toEqual(drainedState(late));
  expect(await w.stop()).toEqual({ code: 0, signal: null });
});

test("batches of 1,000 are confirmed in short script calls: none carries more than the chunk's budget", async () => {
  const sale = { id: "chunked", stock: 2500, perUserLimit: 1 };
  await publishSale(bench.db.pool, bench.redis, sale);
  const orders = await buyAll(bench.redis, sale.id, users("u", 2500), 1);
  expect(orders).toHaveLength(2500);

  // SLOWLOG logs every call with its arguments; what is checked is their number, not the time.
  const script = RedisScript.load(CONFIRM_ORDERS);
  const slowlog = await ScriptSlowlog.start(bench.redis, script, "orderCount");
  const w = bench.worker("w-chunks", { batchSize: 1000 });
  await waitFor("the drain", () => bench.drained(orders));
  expect(await drainState(bench.db.pool, bench.redis, orders)).toEqual(drainedState(orders));
  expect(await w.stop()).toEqual({ code: 0, signal: null });
  await slowlog.stop();

  const calls = slowlog.calls.map((c) => {
    const confirms = Number(c.arg);
    return { confirms, acks: c.argvCount - 3 - 2 * confirms };
  });
  for (const c of calls) expect(c.confirms * ORDER_COST + c.acks).toBeLessThanOrEqual(CONFIRM_CHUNK);
  expect(calls.reduce((n, c) => n + c.confirms, 0)).toBe(2500);
  expect(calls.reduce((n, c) => n + c.acks, 0)).toBe(2500);
  expect(Math.max(...calls.map((c) => c.confirms))).toBe(CONFIRM_CHUNK / ORDER_COST);
});
