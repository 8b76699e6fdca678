/**
 * A sale's report and its kept traffic on a real stack (gateway, Redis, Postgres, order worker,
 * the control plane's jobs): a rush that starts before the sale opens and runs it out, then the
 * report's units, revenue, orders, sell-out time and timeline counted against Postgres, its
 * requests by outcome against the shoppers' own answers, its purchase latency percentiles against
 * the slowest answer a shopper waited for, and the CSV against the report. The
 * keep-traffic job run twice for one second (two instances) writes it once.
 */
import { createLogger } from "@flash-sale/node-common";
import { SALE_PURCHASE_BUCKETS } from "@flash-sale/contract/metrics";
import { keepTrafficJob } from "../control-plane/src/jobs/keep-traffic";
import { JOB_LEASE_MS } from "../control-plane/src/jobs/sale-jobs";
import { TEST_ADMIN_TOKEN } from "./support/control-plane";
import { parseCsv } from "./support/csv";
import { Rush } from "./support/rush";
import { waitFor } from "./support/stream-fixtures";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";

jest.setTimeout(90_000);

const STOCK = 30;
const PRICE = 250;
/** The rush starts this long before the sale: shoppers told not_started are in the report too. */
const OPENS_IN_MS = 2_500;

const stack = useStack(new TestStack({ name: "sale-report", worker: {} }), async () => {
  stack.controlPlane.startJobs();
});

async function get(path: string): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(stack.controlPlane.url + path, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe("a sale's report", () => {
  it("counts what sold, for how much, how fast, and every shopper's answer", async () => {
    const startsAt = new Date(Date.now() + OPENS_IN_MS).toISOString();
    const sale = await stack.controlPlane.createSale({
      id: "report-rush",
      stock: STOCK,
      price: PRICE,
      currency: "EUR",
      startsAt,
      deduction: "reserve",
      paymentTimeoutSeconds: 600,
    });
    expect((await stack.controlPlane.admin("POST", `/admin/api/sales/${sale.id}/pause`)).status).toBe(200);
    expect((await stack.controlPlane.admin("POST", `/admin/api/sales/${sale.id}/resume`)).status).toBe(200);
    // Every gateway worker knows the sale before the rush (an unknown one would answer 404): each
    // syncs the configs every 250 ms. Not by reading the sale, which the report would count.
    await new Promise((r) => setTimeout(r, 1000));

    const rush = new Rush(stack.gateway.url, sale.id, "report", 6, { perSecond: 40 }).start();
    await rush.finished();
    expect(rush.accepted).toHaveLength(STOCK);
    await waitFor("the worker's drain", async () => (await stack.db.pool.query("SELECT count(*)::int AS n FROM orders WHERE sale_id = $1", [sale.id])).rows[0].n === STOCK);
    // Every loop stops at the first sold_out it sees.
    const told: Record<string, number> = { accepted: STOCK, not_started: rush.refused.get(425) ?? 0, sold_out: 6 };
    // nginx's per-IP limit turns some away: they are in the report too.
    if (rush.refused.has(429)) told.ip_limited = rush.refused.get(429)!;
    expect(told.not_started).toBeGreaterThan(0);
    expect([...rush.refused.keys()].filter((s) => s !== 425 && s !== 429)).toEqual([]);
    const answers = Object.values(told).reduce((a, b) => a + b, 0);

    // The job keeps a second once its answers are in the gateway's counters.
    let report: any;
    await waitFor("the kept seconds to hold every answer", async () => {
      report = JSON.parse((await get(`/admin/api/sales/${sale.id}/report`)).text);
      return report.requests === answers;
    });
    expect(report.requestsByOutcome).toEqual(told);

    const pg = (await stack.db.pool.query(
      `SELECT sum(quantity)::int AS units, sum(price * quantity)::int AS revenue, max(accepted_at) AS last, count(*) FILTER (WHERE status = 'confirmed')::int AS confirmed
         FROM orders WHERE sale_id = $1`,
      [sale.id],
    )).rows[0];
    expect(report).toMatchObject({
      saleId: sale.id,
      unitsSold: pg.units,
      revenue: pg.revenue,
      currency: "EUR",
      revenueByCurrency: { EUR: STOCK * PRICE },
      orders: STOCK,
      ordersByStatus: { pending: 0, confirmed: pg.confirmed, paid: 0, expired: 0, failed: 0 },
      paidConversion: 0,
      soldOutAt: pg.last.toISOString(),
      timeToSellOutSeconds: (pg.last.getTime() - Date.parse(startsAt)) / 1000,
      waitingRoom: null,
    });
    expect(pg.units).toBe(STOCK);
    expect(report.timeToSellOutSeconds).toBeGreaterThan(0);
    const perSecond = report.series.map((s: { total: number }) => s.total);
    expect(report.peakRequestsPerSecond).toBe(Math.max(...perSecond));
    expect(report.peakRequestsPerSecond).toBeGreaterThan(0);
    expect(report.series.length).toBeGreaterThan(OPENS_IN_MS / 1000);
    // The gateway timed every purchase answer from its first byte; a shopper waited that and
    // more (to the gateway's millisecond clock), so no percentile passes the bucket of the slowest.
    const { p50, p95, p99 } = report.purchaseLatencyMs;
    expect(p50).toBeGreaterThan(0);
    expect(p95).toBeGreaterThanOrEqual(p50);
    expect(p99).toBeGreaterThanOrEqual(p95);
    const slowestBucketMs = 1000 * (SALE_PURCHASE_BUCKETS.find((b) => b * 1000 >= rush.slowestMs + 1) ?? SALE_PURCHASE_BUCKETS[SALE_PURCHASE_BUCKETS.length - 1]!);
    expect(p99).toBeLessThanOrEqual(slowestBucketMs);
    expect(report.timeline.map((e: { action: string }) => e.action)).toEqual(["publish", "pause", "resume"]);
    expect(report.timeline.every((e: { actor: string }) => e.actor.length > 0)).toBe(true);

    const csv = await get(`/admin/api/sales/${sale.id}/report.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const [header, ...rows] = parseCsv(csv.text);
    expect(header).toEqual(["second", "requests", ...Object.keys(told).sort(), "gateways", "queue_joined", "queue_admitted", "passes_used", "passes_expired"]);
    expect(rows).toHaveLength(report.series.length);
    expect(rows.map((r) => r[0])).toEqual(report.series.map((s: { at: string }) => s.at));
    expect(rows.reduce((n, r) => n + Number(r[1]), 0)).toBe(report.requests);
    expect(rows.reduce((n, r) => n + Number(r[header!.indexOf("accepted")]), 0)).toBe(STOCK);
  });

  it("is 404 sale_not_found for an unknown sale, as JSON and as CSV", async () => {
    for (const path of ["/admin/api/sales/no-such-sale/report", "/admin/api/sales/no-such-sale/report.csv"]) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(JSON.parse(res.text).error).toBe("sale_not_found");
    }
  });
});

describe("the keep-traffic job", () => {
  it("writes a second once when two instances run it", async () => {
    const sale = await stack.controlPlane.createSale({ id: "report-twice", stock: 5 });
    const secondMs = Math.floor(Date.now() / 1000) * 1000 + 1_800_000;
    const jobs = [1, 2].map(() =>
      keepTrafficJob({ pool: stack.db.pool, redis: stack.redis, gatewayMetricsUrl: stack.gateway.metricsUrl, logger: createLogger("keep-traffic-test", "silent"), now: () => secondMs + 400 }, "* * * * * *", JOB_LEASE_MS),
    );
    await Promise.all(jobs.map((j) => j.run()));
    const rows = await stack.db.pool.query("SELECT gateways FROM sale_traffic_seconds WHERE sale_id = $1 AND second = $2", [sale.id, new Date(secondMs)]);
    expect(rows.rows).toEqual([{ gateways: 1 }]);
  });
});
