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
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { waitForSale } from "./support/gateway";
import { purchase } from "./support/http";
import { signToken } from "./support/tokens";
import { ClusterStack } from "./support/cluster-stack";
import { useStack } from "./support/use-stack";
import { runTool } from "./support/run-tool";

const K = 3;
const UNITS = 90;

const stack = useStack(new ClusterStack({ name: "cluster_buckets", workers: ["buckets-worker-a", "buckets-worker-b"] }));

test(`a hot sale in ${K} buckets on ${K} primaries, most shoppers on one, through 2 gateways: exactly ${UNITS} sold, none stranded, counted`, async () => {
  const id = "hot-buckets";
  const sale = await stack.controlPlane.createSale({ id, stock: UNITS, stockBuckets: K, limits: { userRatePerSecond: 1000, userBurst: 1000, admitPerSecond: 100000 } });
  for (const g of stack.gateways) await waitForSale(g, sale.id);
  stack.controlPlane.startJobs();

  // Each bucket on its own primary, as Redis computes the slot.
  const all = bucketKeysOf(id, K);
  const primaries = await Promise.all(all.map((k) => stack.cluster.primaryOf(keySlot(k.stock))));
  expect(new Set(primaries).size).toBe(K);
  for (const [b, k] of all.entries()) {
    expect(Number(await stack.cluster.cli(primaries[b]!, "cluster", "keyslot", k.stock))).toBe(keySlot(k.stock));
    expect(await stack.cluster.cli(primaries[b]!, "get", k.stock)).toBe(String(UNITS / K));
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
      const gateway = stack.gateways[i % 2]!;
      while (Date.now() < deadline) {
        const r = await purchase(gateway.url, id, signToken(user));
        if (r.status === 202) {
          orderIds.push(r.json().orderId as string);
          outcomes.push("accepted");
          return;
        }
        if (r.status === 410) {
          const left = await Promise.all(all.map(async (k) => Number(await stack.redis.get(k.stock))));
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

  await waitForRows(stack.db.pool, id, UNITS);
  expect(await countSale(stack.redis, stack.db.pool, id, K)).toEqual(balancedCount(UNITS, 0));
  const inPostgres = await stack.db.pool.query<{ order_id: string }>("SELECT order_id FROM orders WHERE sale_id = $1", [id]);
  expect(new Set(inPostgres.rows.map((r) => r.order_id))).toEqual(new Set(orderIds));
  // The control plane sums the buckets: its stats and the load tester's post-run check.
  const { stats } = (await stack.controlPlane.admin("GET", `/admin/api/sales/${id}`)).body;
  expect({ left: stats.unitsLeft, sold: stats.unitsSold, persisted: stats.ordersPersisted }).toEqual({ left: 0, sold: UNITS, persisted: UNITS });
  const check = await runTool("npx", ["tsx", "load-test/post-run-check.ts", "--sale", id, "--drain-timeout", "0"], {
    FS_DATABASE_URL: stack.db.url,
    FS_REDIS_CLUSTER_NODES: stack.cluster.nodes,
  });
  expect({ code: check.code, stderr: check.stderr }).toEqual({ code: 0, stderr: "" });
  expect(check.stdout).toContain(`OK: ${UNITS} orders`);
  for (const g of stack.gateways) expect(g.errorLines()).toEqual([]);
});
