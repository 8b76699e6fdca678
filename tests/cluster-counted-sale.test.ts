/**
 * Redis Cluster: ten sales spread over the three shards of a private six-node cluster, bought
 * through two gateways at once, drained by two order workers in one consumer group, counted in
 * Redis and Postgres; then reserve sales over the shards, paid and expired, their status
 * changes drained by the same workers.
 */
import { keySlot } from "@flash-sale/contract/cluster";
import { saleKeys } from "@flash-sale/contract/keys";
import { balancedCount, countSale, countStatusChanges, postgresOrderStatuses, redisOrderStatuses, waitForRows, waitForStatuses } from "./support/counts";
import { waitForSale } from "./support/gateway";
import { purchase, request } from "./support/http";
import { scrape } from "./support/prometheus";
import { waitFor } from "./support/stream-fixtures";
import { signToken } from "./support/tokens";
import { ClusterStack } from "./support/cluster-stack";
import { useStack } from "./support/use-stack";
import { expireReservations } from "../control-plane/src/payments/reservation-expiry";
import { runTool } from "./support/run-tool";

const SALES = 10;
const UNITS = 30;
const SHOPPERS_PER_SALE = 150;

const stack = useStack(new ClusterStack({ name: "cluster_counted", workers: ["cluster-worker-a", "cluster-worker-b"] }));

/** Sale ids whose slots cover every primary, at most four per shard. */
async function idsOverShards(): Promise<{ id: string; primary: number }[]> {
  const ranges = await stack.cluster.slotRanges();
  const chosen: { id: string; primary: number }[] = [];
  const perPrimary = new Map<number, number>();
  for (let i = 0; chosen.length < SALES; i++) {
    const id = `shard-sale-${i}`;
    const slot = keySlot(saleKeys(id).stock);
    const primary = ranges.find((r) => slot >= r.start && slot <= r.end)!.primary;
    if ((perPrimary.get(primary) ?? 0) >= 4) continue;
    perPrimary.set(primary, (perPrimary.get(primary) ?? 0) + 1);
    chosen.push({ id, primary });
  }
  return chosen;
}

test(`${SALES} sales over 3 shards, ${SALES * SHOPPERS_PER_SALE} shoppers through 2 gateways: exactly ${UNITS} sold each, drained once by 2 workers`, async () => {
  const sales = await idsOverShards();
  expect(new Set(sales.map((s) => s.primary)).size).toBe(3);
  for (const { id } of sales) await stack.controlPlane.createSale({ id, stock: UNITS });
  for (const g of stack.gateways) for (const { id } of sales) await waitForSale(g, id);

  // Each sale's keys sit on the primary our slot says, as Redis computes the slot.
  for (const { id, primary } of sales) {
    const k = saleKeys(id);
    expect(Number(await stack.cluster.cli(primary, "cluster", "keyslot", k.stock))).toBe(keySlot(k.stock));
    expect(await stack.cluster.cli(primary, "get", k.stock)).toBe(String(UNITS));
  }
  // Both workers read every sale's stream before the rush, so that both take part.
  await waitFor("both workers reading every sale", () =>
    stack.workers.every((w) => sales.every(({ id }) => w.logs.some((l) => l.msg === "reading sale's order stream" && l.sale === id))),
  );

  // Interleaved: the sales' rushes overlap on every shard.
  const requests = Array.from({ length: SHOPPERS_PER_SALE }, (_, i) =>
    sales.map(({ id }) => ({ id, gateway: stack.gateways[i % 2]!, token: signToken(`${id}-shopper-${i}`) })),
  ).flat();
  const responses = await Promise.all(requests.map((r) => purchase(r.gateway.url, r.id, r.token).then((res) => ({ ...r, res }))));

  const others = responses.filter((r) => r.res.status !== 202 && r.res.status !== 410);
  expect(others.map((r) => `${r.id} ${r.res.status} ${r.res.text}`)).toEqual([]);
  const orderIds = new Set<string>();
  for (const { id } of sales) {
    const mine = responses.filter((r) => r.id === id);
    const accepted = mine.filter((r) => r.res.status === 202);
    expect({ id, accepted: accepted.length, soldOut: mine.filter((r) => r.res.status === 410).length }).toEqual({
      id,
      accepted: UNITS,
      soldOut: SHOPPERS_PER_SALE - UNITS,
    });
    for (const r of accepted) orderIds.add(r.res.json().orderId as string);
  }
  expect(orderIds.size).toBe(SALES * UNITS);
  const perGateway = stack.gateways.map((g) => responses.filter((r) => r.gateway === g && r.res.status === 202).length);
  console.log(`units sold per gateway: ${perGateway.join(", ")}`);
  for (const n of perGateway) expect(n).toBeGreaterThan(0);

  for (const { id } of sales) {
    await waitForRows(stack.db.pool, id, UNITS);
    expect({ id, ...(await countSale(stack.redis, stack.db.pool, id)) }).toEqual({ id, ...balancedCount(UNITS, 0) });
  }
  const { rows } = await stack.db.pool.query<{ n: number; ids: number }>("SELECT count(*)::int AS n, count(DISTINCT order_id)::int AS ids FROM orders");
  expect(rows[0]).toEqual({ n: SALES * UNITS, ids: SALES * UNITS });
  const inPostgres = await stack.db.pool.query<{ order_id: string }>("SELECT order_id FROM orders");
  expect(new Set(inPostgres.rows.map((r) => r.order_id))).toEqual(orderIds);
  // The control plane reads each sale's counters on the sale's slot: its stats, its traffic, /metrics.
  const metrics = await scrape(`${stack.controlPlane.url}/metrics`);
  for (const { id } of sales) {
    const { stats } = (await stack.controlPlane.admin("GET", `/admin/api/sales/${id}`)).body;
    const { ordersQueued } = (await stack.controlPlane.admin("GET", `/admin/api/sales/${id}/traffic`)).body;
    const accepted = metrics.value("fs_sale_orders_accepted", { sale: id });
    expect({ id, left: stats.unitsLeft, sold: stats.unitsSold, persisted: stats.ordersPersisted, ordersQueued, accepted }).toEqual({
      id, left: 0, sold: UNITS, persisted: UNITS, ordersQueued: 0, accepted: UNITS,
    });
  }

  // Each order went pending → confirmed once, by one of the two workers; both drained some.
  const drained = await Promise.all(
    stack.workers.map(async (w) => (await scrape(w.metricsUrl()!)).sum("fs_worker_orders_drained_total")),
  );
  console.log(`orders drained per worker: ${drained.join(", ")}`);
  expect(drained.reduce((a, b) => a + b, 0)).toBe(SALES * UNITS);
  for (const n of drained) expect(n).toBeGreaterThan(0);
  for (const g of stack.gateways) expect(g.errorLines()).toEqual([]);

  // The load tester's post-run check counts a sale on the cluster as on one Redis.
  const check = await runTool("npx", ["tsx", "load-test/post-run-check.ts", "--sale", sales[0]!.id, "--drain-timeout", "0"], {
    FS_DATABASE_URL: stack.db.url,
    FS_REDIS_CLUSTER_NODES: stack.cluster.nodes,
  });
  expect({ code: check.code, stderr: check.stderr }).toEqual({ code: 0, stderr: "" });
  expect(check.stdout).toContain(`OK: ${UNITS} orders`);
});

test("reserve sales over the 3 shards: payments and expiries reach Postgres through the 2 workers, each status once, counted", async () => {
  const sales = (await idsOverShards()).map((s) => ({ ...s, id: s.id.replace("shard-sale", "shard-reserve") })).slice(0, 6);
  for (const { id } of sales) await stack.controlPlane.createSale({ id, stock: UNITS, deduction: "reserve", paymentTimeoutSeconds: 60 });
  for (const g of stack.gateways) for (const { id } of sales) await waitForSale(g, id);
  const primaries = new Set<number>();
  const ranges = await stack.cluster.slotRanges();
  for (const { id } of sales) primaries.add(ranges.find((r) => keySlot(saleKeys(id).stock) >= r.start && keySlot(saleKeys(id).stock) <= r.end)!.primary);
  expect(primaries.size).toBe(3);

  // Every unit sold; the first 20 buyers of each sale pay at once, the other 10 let it expire.
  const bought = await Promise.all(
    sales.flatMap(({ id }) =>
      Array.from({ length: UNITS }, async (_, i) => {
        const user = `${id}-shopper-${i}`;
        const r = await purchase(stack.gateways[i % 2]!.url, id, signToken(user));
        expect(r.status).toBe(202);
        return { id, user, orderId: r.json().orderId as string, pays: i < 20 };
      }),
    ),
  );
  const payments = await Promise.all(
    bought.filter((b) => b.pays).map((b) => request(`${stack.gateways[0]!.url}/api/orders/${b.orderId}/pay`, { method: "POST", headers: { Authorization: `Bearer ${signToken(b.user)}` } })),
  );
  for (const r of payments) expect(r.status).toBe(200);

  // The expiry (the control plane job's script, on each sale's shard), told every order is due.
  for (const { id } of sales) {
    expect((await expireReservations(stack.redis, { id, deduction: "reserve", paymentTimeoutMs: 0 })).expiredOrders).toBe(UNITS - 20);
    expect(await redisOrderStatuses(stack.redis, id, "reserved")).toEqual({ paid: 20, expired: UNITS - 20 });
    await waitForRows(stack.db.pool, id, UNITS);
    await waitForStatuses(stack.redis, stack.db.pool, id, "reserved");
    expect({ id, statuses: await postgresOrderStatuses(stack.db.pool, id, "reserved") }).toEqual({ id, statuses: { paid: 20, expired: UNITS - 20 } });
    expect({ id, changes: await countStatusChanges(stack.redis, id) }).toEqual({ id, changes: { entries: UNITS, unacknowledged: 0 } });
    expect({ id, ...(await countSale(stack.redis, stack.db.pool, id)) }).toEqual({ id, ...balancedCount(UNITS, UNITS - 20), unitsSold: 20 });
  }
  // Each change set once, by one of the two workers.
  const applied = await Promise.all(stack.workers.map(async (w) => (await scrape(w.metricsUrl()!)).sum("fs_worker_statuses_applied_total")));
  console.log(`status changes applied per worker: ${applied.join(", ")}`);
  expect(applied.reduce((a, b) => a + b, 0)).toBe(sales.length * UNITS);
  for (const g of stack.gateways) expect(g.errorLines()).toEqual([]);
});
