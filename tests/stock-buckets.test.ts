/**
 * A hot sale split in stock buckets (core/buckets.ts) through the real gateway, Redis, order
 * worker, control plane jobs and Postgres: shoppers buy from their own bucket, units follow
 * them between buckets (projection/bucket-rebalancer.ts), nothing is stranded nor sold twice, and
 * the sale is answered sold out only once every bucket is empty. Counted.
 */
import { createLogger, RedisScript } from "@flash-sale/node-common";
import { bucketOfOrderNo, bucketOfUser } from "@flash-sale/contract/buckets";
import { bucketKeysOf } from "@flash-sale/contract/keys";
import { parseOrderId } from "@flash-sale/contract/ids";
import { BUCKET_TRANSFER_IN, BUCKET_TRANSFER_OUT } from "@flash-sale/contract/scripts/sale";
import { BucketRebalancer, unitsInFlight } from "../control-plane/src/projection/bucket-rebalancer";
import { problemsOf, reconcileSale, type Reconciliation } from "../control-plane/src/projection/reconciliation";
import { SaleRepository } from "../control-plane/src/store/sale-repository";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { purchase, request } from "./support/http";
import { scrape } from "./support/prometheus";
import { signToken } from "./support/tokens";

const K = 3;
const TRANSFER_OUT = RedisScript.load(BUCKET_TRANSFER_OUT);
const TRANSFER_IN = RedisScript.load(BUCKET_TRANSFER_IN);
const FAST = { userRatePerSecond: 1000, userBurst: 1000, admitPerSecond: 100000 };

const stack = useStack(new TestStack({ name: "stock_buckets", knobs: LOAD_TEST_KNOBS, worker: { batchSize: 500 } }));

async function bucketStocks(saleId: string): Promise<number[]> {
  return Promise.all(bucketKeysOf(saleId, K).map(async (k) => Number(await stack.redis.get(k.stock))));
}

/** The reconciliation of the sale over its buckets, as the job runs it (under the row lock). */
async function reconcile(saleId: string): Promise<Reconciliation> {
  const repository = new SaleRepository(stack.db.pool);
  return (await repository.withLockedSale(saleId, (locked) => reconcileSale(stack.redis, repository, locked, Date.now())))!;
}

/** `n` user ids, `hot` of them on bucket 0 and the others spread over the rest. */
function skewedShoppers(prefix: string, n: number, hot: number): string[] {
  const onHot: string[] = [];
  const others: string[] = [];
  for (let i = 0; onHot.length < hot || others.length < n - hot; i++) {
    const id = `${prefix}-${i}`;
    if (bucketOfUser(id, K) === 0) {
      if (onHot.length < hot) onHot.push(id);
    } else if (others.length < n - hot) others.push(id);
  }
  return [...onHot, ...others];
}

test("a move interrupted between its two steps is finished once by the next run: nothing lost, nothing made up, counted", async () => {
  const sale = await stack.controlPlane.createSale({ id: "buckets-move", stock: 9, stockBuckets: K, limits: FAST });
  await waitForSale(stack.gateway, sale.id);
  const all = bucketKeysOf(sale.id, K);
  expect(await bucketStocks(sale.id)).toEqual([3, 3, 3]);

  // The first step alone, as a control plane dying right after it leaves it.
  const out = await TRANSFER_OUT.run(stack.redis, all[1]!, { transferId: "t-1", toBucket: 0, units: 2 });
  if (out.reply !== "taken") throw new Error(`bucket-transfer-out.lua: ${JSON.stringify(out)}`);
  expect(out.units).toBe(2);
  expect(await bucketStocks(sale.id)).toEqual([3, 1, 3]);
  expect(await unitsInFlight(stack.redis, sale.id, K)).toBe(2);
  // The units in flight are the sale's: no drift.
  expect(await reconcile(sale.id)).toMatchObject({ unitsLeft: 7, unitDrift: 0 });

  const rebalancer = new BucketRebalancer(stack.redis, createLogger("test-rebalancer", "silent"));
  const first = await rebalancer.rebalance({ id: sale.id, stockBuckets: K, perUserLimit: 1 });
  expect(first).toMatchObject({ finished: 1, held: false, unitsMoved: 0 });
  expect(await bucketStocks(sale.id)).toEqual([5, 1, 3]);
  expect(await unitsInFlight(stack.redis, sale.id, K)).toBe(0);
  expect(await stack.redis.hexists(all[1]!.transfers, "out:t-1")).toBe(0);

  // The second step again (a crash before the record was dropped repeats it): applied once only.
  expect(await TRANSFER_IN.run(stack.redis, all[0]!, { transferId: "t-1", units: 2, epoch: out.epoch })).toBe("applied_before");
  // A move from before a rebuild (another epoch) is void.
  expect(await TRANSFER_IN.run(stack.redis, all[0]!, { transferId: "t-2", units: 2, epoch: out.epoch - 1 })).toBe("rebuilt");
  expect(await rebalancer.rebalance({ id: sale.id, stockBuckets: K, perUserLimit: 1 })).toMatchObject({ finished: 0, unitsMoved: 0 });
  expect(await bucketStocks(sale.id)).toEqual([5, 1, 3]);

  // Every unit still sells to bucket 0's shoppers: its own 5, then what the runs move to it.
  const shoppers = skewedShoppers("move", 9, 9);
  const first5 = await Promise.all(shoppers.slice(0, 5).map((u) => purchase(stack.gateway.url, sale.id, signToken(u))));
  expect(first5.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
  let waiting = shoppers.slice(5);
  let moved = 0;
  let soldOut = false;
  for (let run = 0; waiting.length > 0 && run < 10; run++) {
    const answers = await Promise.all(waiting.map((u) => purchase(stack.gateway.url, sale.id, signToken(u))));
    for (const r of answers.filter((a) => a.status !== 202)) {
      expect(r.status).toBe(503);
      expect(r.json().error).toBe("unavailable");
      expect(r.headers["retry-after"]).toBe("2");
    }
    waiting = waiting.filter((_, i) => answers[i]!.status !== 202);
    const result = await rebalancer.rebalance({ id: sale.id, stockBuckets: K, perUserLimit: 1 });
    moved += result.unitsMoved;
    soldOut ||= result.soldOut;
  }
  expect(waiting).toEqual([]);
  expect(moved).toBe(4);
  expect(await bucketStocks(sale.id)).toEqual([0, 0, 0]);
  // The run after the last unit found every bucket empty.
  expect(soldOut).toBe(true);
  expect(await Promise.all(all.map((k) => stack.redis.hget(k.meta, "shared")))).toEqual(["0", "0", "0"]);
  const late = await purchase(stack.gateway.url, sale.id, signToken(skewedShoppers("late", 1, 1)[0]!));
  expect(late.status).toBe(410);
  expect(late.json().error).toBe("sold_out");

  await waitForRows(stack.db.pool, sale.id, 9);
  expect(await countSale(stack.redis, stack.db.pool, sale.id, K)).toEqual(balancedCount(9, 0));
});

// Before the jobs start (the rush test starts them): keep-sales-built would rebuild the held bucket.
test("the admin stats show each bucket's units left, which add up to the sale's; a sale of one bucket has no such list", async () => {
  const split = await stack.controlPlane.createSale({ id: "buckets-stats", stock: 10, stockBuckets: K, limits: FAST });
  const whole = await stack.controlPlane.createSale({ id: "buckets-stats-whole", stock: 10, limits: FAST });
  await waitForSale(stack.gateway, split.id);
  const { stats } = (await stack.controlPlane.admin("GET", `/admin/api/sales/${split.id}`)).body as { stats: { unitsLeft: number; bucketUnitsLeft: number[] } };
  expect(stats.bucketUnitsLeft).toEqual(await bucketStocks(split.id));
  expect(stats.bucketUnitsLeft.reduce((a, b) => a + b, 0)).toBe(stats.unitsLeft);
  expect(stats.unitsLeft).toBe(10);
  const one = (await stack.controlPlane.admin("GET", `/admin/api/sales/${whole.id}`)).body as { stats: Record<string, unknown> };
  expect(one.stats).not.toHaveProperty("bucketUnitsLeft");
});

test("nothing is judged while a bucket is held: the sale is marked sold out only once every bucket is built and empty", async () => {
  const saleId = "buckets-held";
  await stack.controlPlane.createSale({ id: saleId, stock: K, stockBuckets: K, limits: FAST });
  await waitForSale(stack.gateway, saleId);
  const all = bucketKeysOf(saleId, K);
  // One shopper per bucket takes its one unit.
  const users = [0, 1, 2].map((b) => Array.from({ length: 100 }, (_, i) => `held-${i}`).find((u) => bucketOfUser(u, K) === b)!);
  for (const u of users) expect((await buyPatiently(saleId, u)).status).toBe(202);
  const fence = (await stack.redis.hget(all[1]!.meta, "fence"))!;
  await stack.redis.hdel(all[1]!.meta, "fence");
  const rebalancer = new BucketRebalancer(stack.redis, createLogger("test-rebalancer", "silent"));
  expect(await rebalancer.rebalance({ id: saleId, stockBuckets: K, perUserLimit: 1 })).toMatchObject({ held: true, soldOut: false });
  expect(await Promise.all(all.map((k) => stack.redis.hget(k.meta, "shared")))).toEqual(["1", "1", "1"]);
  await stack.redis.hset(all[1]!.meta, "fence", fence);
  expect(await rebalancer.rebalance({ id: saleId, stockBuckets: K, perUserLimit: 1 })).toMatchObject({ held: false, soldOut: true });
  expect((await buyPatiently(saleId, "held-late")).status).toBe(410);
  await waitForRows(stack.db.pool, saleId, K);
  expect(await countSale(stack.redis, stack.db.pool, saleId, K)).toEqual(balancedCount(K, 0));
});

test(`a hot sale in ${K} buckets, most shoppers on one bucket: exactly the stock sold, none stranded, no sold out while units were left, counted`, async () => {
  const units = 60;
  const sale = await stack.controlPlane.createSale({ id: "buckets-rush", stock: units, stockBuckets: K, limits: FAST });
  await waitForSale(stack.gateway, sale.id);
  stack.controlPlane.startJobs();
  // 20 shoppers on buckets 1 and 2 leave about 20 of their 40 units for bucket 0's 220.
  const shoppers = skewedShoppers("rush", 240, 220);
  const outcomes = new Map<string, string>();
  const orderIds: string[] = [];
  let soldOutWhileLeft = 0;
  let bucketEmpty = 0;
  const deadline = Date.now() + 60_000;

  await Promise.all(
    shoppers.map(async (user) => {
      const token = signToken(user);
      while (Date.now() < deadline) {
        const r = await purchase(stack.gateway.url, sale.id, token);
        if (r.status === 202) {
          orderIds.push(r.json().orderId as string);
          outcomes.set(user, "accepted");
          return;
        }
        if (r.status === 410) {
          // Read right after the answer: units left anywhere then were left when it was given.
          if ((await bucketStocks(sale.id)).some((n) => n > 0)) soldOutWhileLeft += 1;
          outcomes.set(user, r.json().error as string);
          return;
        }
        if (r.status !== 503) throw new Error(`unexpected ${r.status} ${r.text}`);
        bucketEmpty += 1;
        await new Promise((res) => setTimeout(res, 100 + Math.random() * 200));
      }
      outcomes.set(user, "gave up");
    }),
  );

  const byOutcome: Record<string, number> = {};
  for (const o of outcomes.values()) byOutcome[o] = (byOutcome[o] ?? 0) + 1;
  expect(byOutcome).toEqual({ accepted: units, sold_out: shoppers.length - units });
  expect(soldOutWhileLeft).toBe(0);
  // The skew made bucket 0 run dry while the others held units: moves were needed, and made.
  expect(bucketEmpty).toBeGreaterThan(0);
  expect(await bucketStocks(sale.id)).toEqual([0, 0, 0]);
  const perBucket = [0, 0, 0];
  for (const id of orderIds) perBucket[bucketOfOrderNo(Number(parseOrderId(id)!.orderNo), K)]! += 1;
  expect(perBucket[0]).toBeGreaterThan(units / K);
  expect(new Set(orderIds).size).toBe(units);

  await waitForRows(stack.db.pool, sale.id, units);
  expect(await countSale(stack.redis, stack.db.pool, sale.id, K)).toEqual(balancedCount(units, 0));
  const rows = await stack.db.pool.query<{ id: string }>("SELECT sale_id || '.' || epoch || '.' || order_no AS id FROM orders WHERE sale_id = $1", [sale.id]);
  expect(new Set(rows.rows.map((r) => r.id))).toEqual(new Set(orderIds));
  expect(await unitsInFlight(stack.redis, sale.id, K)).toBe(0);
  // The reconciliation over the buckets finds nothing wrong.
  const checked = await reconcile(sale.id);
  expect(problemsOf(checked)).toEqual([]);
  expect(checked).toMatchObject({ unitsLeft: 0, unitsSold: units, ordersAccepted: units, ordersPersisted: units, counterBehind: 0, takenDrift: 0 });
  // The public view sums the buckets.
  const view = (await request(`${stack.gateway.url}/api/sales/${sale.id}`)).json();
  expect({ status: view.status, stock: view.stock }).toEqual({ status: "sold_out", stock: { total: units, left: 0 } });
  // The job's moves are counted on the control plane's /metrics.
  expect((await scrape(`${stack.controlPlane.url}/metrics`)).value("fs_control_plane_bucket_units_moved_total", { sale: sale.id })).toBeGreaterThan(0);
  expect(stack.gateway.errorLines()).toEqual([]);
});

test("the per-user limit stays exact: one shopper 30 times at once on a split sale gets one order, readable in its bucket", async () => {
  const sale = await stack.controlPlane.createSale({ id: "buckets-limit", stock: 30, stockBuckets: K, limits: FAST });
  await waitForSale(stack.gateway, sale.id);
  const user = skewedShoppers("limit", 3, 0)[2]!;
  const token = signToken(user);
  const responses = await Promise.all(Array.from({ length: 30 }, () => purchase(stack.gateway.url, sale.id, token)));
  const accepted = responses.filter((r) => r.status === 202);
  expect(accepted).toHaveLength(1);
  expect(responses.filter((r) => r.status === 409 && r.json().error === "limit_reached")).toHaveLength(29);
  const orderId = accepted[0]!.json().orderId as string;
  expect(bucketOfOrderNo(Number(parseOrderId(orderId)!.orderNo), K)).toBe(bucketOfUser(user, K));

  await waitForRows(stack.db.pool, sale.id, 1);
  const own = await fetch(`${stack.gateway.url}/api/orders/${orderId}`, { headers: { Authorization: `Bearer ${token}` } });
  expect(own.status).toBe(200);
  expect(await own.json()).toMatchObject({ orderId, status: "confirmed" });
  const list = await fetch(`${stack.gateway.url}/api/orders`, { headers: { Authorization: `Bearer ${token}` } });
  expect(((await list.json()) as { orders: { orderId: string }[] }).orders.map((o) => o.orderId)).toEqual([orderId]);
  expect(await countSale(stack.redis, stack.db.pool, sale.id, K)).toEqual(balancedCount(1, 29));
});

/** Buys until answered 202 or 410 (a held or empty bucket answers 503): the answer's status and order id. */
async function buyPatiently(saleId: string, user: string, deadline = Date.now() + 30_000): Promise<{ status: number; orderId?: string }> {
  while (Date.now() < deadline) {
    const r = await purchase(stack.gateway.url, saleId, signToken(user));
    if (r.status === 202) return { status: 202, orderId: r.json().orderId as string };
    if (r.status !== 503) return { status: r.status };
    await new Promise((res) => setTimeout(res, 150));
  }
  return { status: 0 };
}

test("a split sale whose keys are all lost is rebuilt from Postgres bucket by bucket: each counter in its class, buyers where they bought, no id reused, the rest sells, counted", async () => {
  const saleId = "buckets-rebuild";
  await stack.controlPlane.createSale({ id: saleId, stock: 30, stockBuckets: K, limits: FAST });
  await waitForSale(stack.gateway, saleId);
  stack.controlPlane.startJobs();
  const firstUsers = Array.from({ length: 12 }, (_, i) => `rebuild-first-${i}`);
  const first = await Promise.all(firstUsers.map((u) => buyPatiently(saleId, u)));
  expect(first.map((r) => r.status)).toEqual(firstUsers.map(() => 202));
  await waitForRows(stack.db.pool, saleId, 12);

  for (const k of bucketKeysOf(saleId, K)) await stack.redis.del(...Object.values(k));
  // Held until the job rebuilds it; then the first shoppers are at their limit in their own bucket.
  const again = await Promise.all(firstUsers.map((u) => buyPatiently(saleId, u)));
  expect(again.map((r) => r.status)).toEqual(firstUsers.map(() => 409));
  const { rows } = await stack.db.pool.query<{ b: number; n: string }>(
    "SELECT ((order_no - 1) % $2)::int AS b, max(order_no) AS n FROM orders WHERE sale_id = $1 GROUP BY 1",
    [saleId, K],
  );
  const seqs = await Promise.all(bucketKeysOf(saleId, K).map(async (k) => Number(await stack.redis.get(k.orderSeq))));
  for (const r of rows) expect(seqs[r.b]).toBe(Number(r.n));
  expect((await bucketStocks(saleId)).reduce((a, b) => a + b, 0)).toBe(18);

  const laterUsers = Array.from({ length: 40 }, (_, i) => `rebuild-later-${i}`);
  const later = await Promise.all(laterUsers.map((u) => buyPatiently(saleId, u)));
  const accepted = later.filter((r) => r.status === 202);
  expect(accepted).toHaveLength(18);
  expect(later.filter((r) => r.status === 410)).toHaveLength(22);
  const epochBefore = parseOrderId(first[0]!.orderId!)!.epoch;
  const all = [...first, ...accepted].map((r) => r.orderId!);
  expect(new Set(all).size).toBe(30);
  for (const r of accepted) expect(parseOrderId(r.orderId!)!.epoch).not.toBe(epochBefore);
  laterUsers.forEach((u, i) => {
    if (later[i]!.status === 202) expect(bucketOfOrderNo(Number(parseOrderId(later[i]!.orderId!)!.orderNo), K)).toBe(bucketOfUser(u, K));
  });
  // The orders Redis lost are back where their numbers say, for their shoppers.
  for (const [i, u] of firstUsers.entries()) {
    const own = await fetch(`${stack.gateway.url}/api/orders/${first[i]!.orderId}`, { headers: { Authorization: `Bearer ${signToken(u)}` } });
    expect(own.status).toBe(200);
  }
  await waitForRows(stack.db.pool, saleId, 30);
  // The first 12 orders' stream entries went with the keys (drained before): the streams hold the 18 since.
  expect(await countSale(stack.redis, stack.db.pool, saleId, K)).toEqual({ ...balancedCount(30, 0), streamEntries: 18 });
});
