/**
 * Redis Cluster: one hot sale split in 3 stock buckets lands on the 3 primaries of a private
 * six-node cluster, is bought through two gateways by shoppers most of whom share one bucket,
 * its units moved between the shards by the control plane's job, drained by two workers.
 * Counted in Redis and Postgres.
 */
import { keySlot } from "@flash-sale/contract/cluster";
import { bucketOfOrderNo, bucketOfUser } from "@flash-sale/contract/buckets";
import { bucketKeysOf } from "@flash-sale/contract/keys";
import { parseOrderId } from "@flash-sale/contract/ids";
import type { Redis } from "@flash-sale/node-common";
import { ControlPlane } from "./support/control-plane";
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { Gateway, waitForSale } from "./support/gateway";
import { purchase } from "./support/http";
import { PrivateCluster } from "./support/private-cluster";
import { type TestDatabase } from "./support/test-database";
import { signToken } from "./support/tokens";
import { ClusterStack } from "./support/cluster-stack";
import { runTool } from "./support/run-tool";

const K = 3;
const UNITS = 90;

let stack: ClusterStack;
let cluster: PrivateCluster;
let redis: Redis;
let db: TestDatabase;
let gateways: Gateway[] = [];
let controlPlane: ControlPlane;

beforeAll(async () => {
  stack = await ClusterStack.start({ name: "cluster_buckets", workers: ["buckets-worker-a", "buckets-worker-b"] });
  ({ cluster, redis, db, gateways, controlPlane } = stack);
});

afterAll(async () => {
  expect(await stack?.stop()).toEqual(["a", "b"].map(() => ({ code: 0, signal: null })));
});

test(`a hot sale in ${K} buckets on ${K} primaries, most shoppers on one, through 2 gateways: exactly ${UNITS} sold, none stranded, counted`, async () => {
  const id = "hot-buckets";
  const sale = await controlPlane.createSale({ id, stock: UNITS, stockBuckets: K, limits: { userRatePerSecond: 1000, userBurst: 1000, admitPerSecond: 100000 } });
  for (const g of gateways) await waitForSale(g, sale.id);
  controlPlane.startJobs();

  // Each bucket on its own primary, as Redis computes the slot.
  const all = bucketKeysOf(id, K);
  const primaries = await Promise.all(all.map((k) => cluster.primaryOf(keySlot(k.stock))));
  expect(new Set(primaries).size).toBe(K);
  for (const [b, k] of all.entries()) {
    expect(Number(await cluster.cli(primaries[b]!, "cluster", "keyslot", k.stock))).toBe(keySlot(k.stock));
    expect(await cluster.cli(primaries[b]!, "get", k.stock)).toBe(String(UNITS / K));
  }

  // 30 shoppers on buckets 1 and 2 leave about 30 of their 60 units to bucket 0's 270.
  const shoppers: string[] = [];
  let cold = 0;
  for (let i = 0; shoppers.length < 300; i++) {
    const user = `hot-${i}`;
    if (bucketOfUser(user, K) !== 0) {
      if (cold >= 30) continue;
      cold += 1;
    }
    shoppers.push(user);
  }
  const outcomes: string[] = [];
  const orderIds: string[] = [];
  let refusedWhileEmpty = 0;
  let soldOutWhileLeft = 0;
  const deadline = Date.now() + 90_000;
  await Promise.all(
    shoppers.map(async (user, i) => {
      const gateway = gateways[i % 2]!;
      while (Date.now() < deadline) {
        const r = await purchase(gateway.url, id, signToken(user));
        if (r.status === 202) {
          orderIds.push(r.json().orderId as string);
          outcomes.push("accepted");
          return;
        }
        if (r.status === 410) {
          const left = await Promise.all(all.map(async (k) => Number(await redis.get(k.stock))));
          if (left.some((n) => n > 0)) soldOutWhileLeft += 1;
          outcomes.push("sold_out");
          return;
        }
        expect(`${r.status} ${r.json().error}`).toBe("503 unavailable");
        refusedWhileEmpty += 1;
        await new Promise((res) => setTimeout(res, 150 + Math.random() * 250));
      }
      outcomes.push("gave up");
    }),
  );

  expect({ accepted: outcomes.filter((o) => o === "accepted").length, soldOut: outcomes.filter((o) => o === "sold_out").length }).toEqual({
    accepted: UNITS,
    soldOut: shoppers.length - UNITS,
  });
  expect(soldOutWhileLeft).toBe(0);
  expect(refusedWhileEmpty).toBeGreaterThan(0);
  const onBucket0 = orderIds.filter((o) => bucketOfOrderNo(Number(parseOrderId(o)!.orderNo), K) === 0).length;
  console.log(`units sold by bucket 0: ${onBucket0} of ${UNITS}; 503 while its bucket was empty: ${refusedWhileEmpty}`);
  expect(onBucket0).toBeGreaterThan(UNITS / K);
  expect(new Set(orderIds).size).toBe(UNITS);

  await waitForRows(db.pool, id, UNITS);
  expect(await countSale(redis, db.pool, id, K)).toEqual(balancedCount(UNITS, 0));
  const inPostgres = await db.pool.query<{ order_id: string }>("SELECT order_id FROM orders WHERE sale_id = $1", [id]);
  expect(new Set(inPostgres.rows.map((r) => r.order_id))).toEqual(new Set(orderIds));
  // The control plane sums the buckets: its stats and the load tester's post-run check.
  const { stats } = (await controlPlane.admin("GET", `/admin/api/sales/${id}`)).body;
  expect({ left: stats.unitsLeft, sold: stats.unitsSold, persisted: stats.ordersPersisted }).toEqual({ left: 0, sold: UNITS, persisted: UNITS });
  const check = await runTool("npx", ["tsx", "load-test/post-run-check.ts", "--sale", id, "--drain-timeout", "0"], {
    FS_DATABASE_URL: db.url,
    FS_REDIS_CLUSTER_NODES: cluster.nodes,
  });
  expect({ code: check.code, stderr: check.stderr }).toEqual({ code: 0, stderr: "" });
  expect(check.stdout).toContain(`OK: ${UNITS} orders`);
  for (const g of gateways) expect(g.errorLines()).toEqual([]);
});
