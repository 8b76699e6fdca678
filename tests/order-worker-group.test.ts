/**
 * Two worker processes in one consumer group on one backlog of three sales; one is SIGKILLed
 * while its batches wait on Postgres, then restarted under its name. Nothing is written twice or
 * left unacknowledged.
 */
import { ORDER_CONSUMER_GROUP, saleKeys } from "@flash-sale/contract/keys";
import { buyAll, type AcceptedOrder } from "./support/purchase-script";
import { drainState, drainedState, publishSale, waitFor } from "./support/stream-fixtures";
import { useWorkerBench } from "./support/worker-bench";

const bench = useWorkerBench("order-worker-group");

const SALES = ["group-a", "group-b", "group-c"];
const PER_SALE = 2000;

const worker = (name: string) => bench.worker(name, { batchSize: 100 });

async function buyRound(prefix: string): Promise<AcceptedOrder[]> {
  const orders: AcceptedOrder[] = [];
  for (const sale of SALES) {
    const users = Array.from({ length: PER_SALE / 2 }, (_, i) => ({ userId: `${prefix}${i}`, qty: 1 }));
    orders.push(...(await buyAll(bench.redis, sale, users, 1)));
  }
  return orders;
}

async function rowCount(): Promise<number> {
  return Number((await bench.db.pool.query<{ n: string }>("SELECT count(*) AS n FROM orders")).rows[0]?.n);
}

test("two workers, one SIGKILLed half-way and restarted: rows = distinct orders = accepted entries, all acknowledged", async () => {
  for (const id of SALES) await publishSale(bench.db.pool, bench.redis, { id, stock: PER_SALE, perUserLimit: 1 });
  // Half the backlog drained first, then the other half arrives while the table is held: however
  // fast this machine drains, the workers' next batches are still to come when the lock is taken.
  const early = await buyRound("early");
  const a = worker("w-a");
  const b = worker("w-b");
  await waitFor("the first half written", async () => (await rowCount()) === early.length);

  // Hold the orders table: each worker's next batches (two in flight) wait in their INSERT.
  const lock = await bench.db.pool.connect();
  try {
    await lock.query("BEGIN");
    await lock.query("LOCK TABLE orders IN SHARE MODE");
    const all = [...early, ...(await buyRound("late"))];
    expect(all).toHaveLength(SALES.length * PER_SALE);
    const waiting = `SELECT count(*) AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO orders%'`;
    // From another session: pg_stat_activity holds still within a transaction.
    await waitFor("four batches waiting on the lock", async () => Number((await bench.db.pool.query<{ n: string }>(waiting)).rows[0]?.n) === 4);
    const rowsAtKill = await rowCount();
    const pendingOfA = (await Promise.all(
      SALES.map(async (s) => ((await bench.redis.xpending(saleKeys(s).stream, ORDER_CONSUMER_GROUP, "-", "+", 10_000, "w-a")) as unknown[]).length),
    )).reduce((x, y) => x + y, 0);
    expect(pendingOfA).toBeGreaterThan(0);
    expect(rowsAtKill).toBeLessThan(all.length);

    a.child.kill("SIGKILL");
    expect(await a.exited).toEqual({ code: null, signal: "SIGKILL" });
    await lock.query("COMMIT");
    const restarted = worker("w-a");

    const want = JSON.stringify(drainedState(all));
    await waitFor("the drain", async () => JSON.stringify(await drainState(bench.db.pool, bench.redis, all)) === want, 60_000);
    expect(await drainState(bench.db.pool, bench.redis, all)).toEqual(drainedState(all));
    expect(drainedState(all).distinctBuyers).toBe(SALES.length * PER_SALE);

    // Every entry of the three streams accounted for: one row each, none pending in any consumer.
    const lengths = await Promise.all(SALES.map((s) => bench.redis.xlen(saleKeys(s).stream)));
    expect(lengths).toEqual(SALES.map(() => PER_SALE));
    const perSale = await bench.db.pool.query<{ sale_id: string; n: string; orders: string }>(
      "SELECT sale_id, count(*) AS n, count(DISTINCT order_id) AS orders FROM orders GROUP BY sale_id ORDER BY sale_id",
    );
    expect(perSale.rows).toEqual(SALES.map((s) => ({ sale_id: s, n: String(PER_SALE), orders: String(PER_SALE) })));
    for (const s of SALES) {
      expect(await bench.redis.xpending(saleKeys(s).stream, ORDER_CONSUMER_GROUP)).toEqual([0, null, null, null]);
    }
    // The killed worker's batches were taken up: by itself, restarted, or claimed by the other.
    const reread = restarted.logs.some((l) => l.msg === "re-reading this consumer's pending entries");
    const claimed = b.logs.some((l) => l.msg === "claimed entries left pending too long");
    expect(reread || claimed).toBe(true);
    expect(await b.stop()).toEqual({ code: 0, signal: null });
    expect(await restarted.stop()).toEqual({ code: 0, signal: null });
  } finally {
    lock.release();
  }
});
