/**
 * Observability against a counted sale: /metrics of the gateway, the order worker and the
 * control plane parse as Prometheus text and agree with the counts in Redis and Postgres;
 * the JSON access log's request id is the one in orders.request_id.
 */
import { execFile } from "node:child_process";
import { CONFIG_VERSION_KEY } from "@flash-sale/contract/keys";
import type { Redis } from "@flash-sale/node-common";
import { LOAD_TEST_KNOBS, afterConfigSync, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { publishSaleConfig, waitFor, type WorkerProcess } from "./support/stream-fixtures";
import { countSale, waitForRows } from "./support/counts";
import { purchase, request } from "./support/http";
import { signToken } from "./support/tokens";
import { scrape, type Exposition } from "./support/prometheus";
import { dashboardMetricNames } from "./support/dashboard";

let worker: WorkerProcess;

// Every refusal in the access log (the shipped default keeps a sample).
const stack = useStack(new TestStack({ name: "observability", knobs: { ...LOAD_TEST_KNOBS, access_log_refusals_percent: "100" }, worker: {} }), async () => {
  worker = stack.worker!;
});

/**
 * `promtool check metrics`: its complaints about our metrics (fs_*), empty when none.
 * prom-client's default nodejs_* gauges draw three of their own, not ours to fix.
 */
function promtoolCheckMetrics(exposition: Exposition): Promise<string[]> {
  return new Promise((resolve) => {
    const child = execFile("promtool", ["check", "metrics"], { encoding: "utf8" }, (_err, stdout, stderr) =>
      resolve((stdout + stderr).split("\n").filter((l) => l.startsWith("fs_"))),
    );
    child.stdin?.end(exposition.text);
  });
}

const UNITS = 40;
const SHOPPERS = 120;

test("a counted sale: every part's /metrics parses and matches the counts; access-log ids are the orders' request ids", async () => {
  const sale = await stack.controlPlane.createSale({ id: "observed", stock: UNITS });
  const later = await stack.controlPlane.createSale({
    id: "observed-later",
    stock: 5,
    startsAt: new Date(Date.now() + 3_600_000).toISOString(),
    endsAt: new Date(Date.now() + 7_200_000).toISOString(),
  });
  await waitForSale(stack.gateway, sale.id);
  await waitForSale(stack.gateway, later.id);

  // Refusals first: once the sale is sold out, the sold-out flag answers before any other check.
  const refused = await Promise.all([
    ...Array.from({ length: 3 }, () => purchase(stack.gateway.url, sale.id, undefined)),
    ...Array.from({ length: 2 }, (_, i) =>
      request(`${stack.gateway.url}/api/sales/${sale.id}/purchase`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${signToken(`bad-body-${i}`)}` },
        body: "{not json",
      }),
    ),
    purchase(stack.gateway.url, "no-such-sale", signToken("lost")),
    ...Array.from({ length: 2 }, (_, i) => purchase(stack.gateway.url, later.id, signToken(`early-${i}`))),
  ]);
  expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 400, 400, 404, 425, 425]);
  const bought = await Promise.all(Array.from({ length: SHOPPERS }, (_, i) => purchase(stack.gateway.url, sale.id, signToken(`observed-${i}`))));
  expect(bought.filter((r) => r.status === 202)).toHaveLength(UNITS);
  expect(bought.filter((r) => r.status === 410)).toHaveLength(SHOPPERS - UNITS);

  await waitForRows(stack.db.pool, sale.id, UNITS);
  const count = await countSale(stack.redis, stack.db.pool, sale.id);
  expect(count).toMatchObject({ unitsLeft: 0, unitsSold: UNITS, redisOrders: UNITS, pgRows: UNITS, pgDuplicateUsers: 0 });

  // The gateway: requests by route, sale and outcome; latency; Redis time; dict fill. Only on
  // its internal listener, never on the public server.
  const publicMetrics = await request(`${stack.gateway.url}/metrics`);
  expect(publicMetrics.status).not.toBe(200);
  expect(publicMetrics.text).not.toContain("fs_gateway_");
  const gw = await scrape(stack.gateway.metricsUrl);
  const requests = (labels: Record<string, string>) => gw.value("fs_gateway_requests_total", { route: "purchase", ...labels });
  expect(requests({ sale: sale.id, outcome: "accepted" })).toBe(count.unitsSold);
  expect(requests({ sale: sale.id, outcome: "sold_out" })).toBe(SHOPPERS - UNITS);
  expect(requests({ sale: sale.id, outcome: "unauthorized" })).toBe(3);
  expect(requests({ sale: sale.id, outcome: "bad_request" })).toBe(2);
  expect(requests({ sale: "", outcome: "sale_not_found" })).toBe(1);
  expect(requests({ sale: later.id, outcome: "not_started" })).toBe(2);
  expect(gw.value("fs_gateway_request_duration_seconds_count", { route: "purchase" })).toBe(refused.length + bought.length);
  // Every accepted order took one script call; sold-out answers after the flag took none.
  const scriptCalls = gw.value("fs_gateway_redis_duration_seconds_count", { op: "purchase" })!;
  expect(scriptCalls).toBeGreaterThanOrEqual(UNITS);
  expect(scriptCalls).toBeLessThanOrEqual(SHOPPERS);
  expect(gw.value("fs_gateway_redis_errors_total", { op: "purchase" })).toBe(0);
  expect(gw.value("fs_gateway_redis_duration_seconds_count", { op: "config_sync" })).toBeGreaterThan(0);
  for (const dict of ["fs_flags", "fs_limits", "fs_metrics"]) {
    const capacity = gw.value("fs_gateway_shared_dict_capacity_bytes", { dict })!;
    expect(capacity).toBeGreaterThan(0);
    expect(gw.value("fs_gateway_shared_dict_free_bytes", { dict })).toBeLessThanOrEqual(capacity);
  }

  // The order worker: orders drained, nothing left in the stream.
  await waitFor("the worker's metrics port", () => worker.metricsUrl() !== undefined);
  const wk = await scrape(worker.metricsUrl()!);
  expect(wk.value("fs_worker_orders_drained_total", { sale: sale.id })).toBe(count.pgRows);
  expect(wk.value("fs_worker_stream_backlog_entries", { sale: sale.id })).toBe(0);
  expect(wk.value("fs_worker_stream_lag_seconds", { sale: sale.id })).toBe(0);
  expect(wk.value("fs_worker_malformed_entries_total")).toBe(0);

  // The control plane: the reconciliation of Redis and Postgres.
  const cp = await scrape(`${stack.controlPlane.url}/metrics`);
  expect(cp.value("fs_sale_stock_units", { sale: sale.id })).toBe(UNITS);
  expect(cp.value("fs_sale_units_left", { sale: sale.id })).toBe(count.unitsLeft);
  expect(cp.value("fs_sale_units_sold", { sale: sale.id })).toBe(count.unitsSold);
  expect(cp.value("fs_sale_inventory_drift_units", { sale: sale.id })).toBe(0);
  expect(cp.value("fs_sale_orders_accepted", { sale: sale.id })).toBe(count.redisOrders);
  expect(cp.value("fs_sale_orders_persisted", { sale: sale.id })).toBe(count.pgRows);
  expect(cp.value("fs_sale_orders_unpersisted", { sale: sale.id })).toBe(0);

  // Prometheus' own linter finds nothing to say; the dashboard reads only metrics that exist.
  for (const exposition of [gw, wk, cp]) expect(await promtoolCheckMetrics(exposition)).toEqual([]);
  const families = new Set([gw, wk, cp].flatMap((e) => [...e.types.keys()]));
  expect(dashboardMetricNames().filter((name) => !families.has(name))).toEqual([]);

  // The access log (flushed every second): one line per accepted purchase, whose request id
  // is the one the worker wrote into Postgres.
  const accepted = () => stack.gateway.accessLog().filter((e) => e.route === "purchase" && e.sale === sale.id && e.outcome === "accepted");
  await waitFor("the access log's flush", () => accepted().length === UNITS, 5000);
  const logged = accepted().map((e) => e.request_id as string);
  expect(logged.every((id) => /^[0-9a-f]{32}$/.test(id))).toBe(true);
  const { rows } = await stack.db.pool.query<{ request_id: string }>("SELECT request_id FROM orders WHERE sale_id = $1", [sale.id]);
  expect(rows.map((r) => r.request_id).sort()).toEqual(logged.sort());
  expect(stack.gateway.accessLog().find((e) => e.outcome === "unauthorized")).toMatchObject({ status: 401, method: "POST", client: "127.0.0.1" });
});

test("an order the worker cannot write shows as backlog, lag and unpersisted", async () => {
  // Published to Redis only: the worker finds no sale row in Postgres and leaves the order pending.
  const orphan = { id: "observed-orphan", stock: 5, perUserLimit: 1 };
  await publishSaleConfig(stack.redis, orphan);
  await stack.redis.incr(CONFIG_VERSION_KEY);
  await waitForSale(stack.gateway, orphan.id);
  expect((await purchase(stack.gateway.url, orphan.id, signToken("orphan-buyer"))).status).toBe(202);

  await waitFor("the worker to leave the order pending", () => worker.logs.some((l) => l.msg === "orders for sales missing in Postgres left pending"));
  await new Promise((r) => setTimeout(r, 1000));
  const wk = await scrape(worker.metricsUrl()!);
  expect(wk.value("fs_worker_stream_backlog_entries", { sale: orphan.id })).toBe(1);
  expect(wk.value("fs_worker_stream_lag_seconds", { sale: orphan.id })).toBeGreaterThan(0.9);
  expect(wk.value("fs_worker_orders_drained_total", { sale: orphan.id })).toBeUndefined();
  const cp = await scrape(`${stack.controlPlane.url}/metrics`);
  expect(cp.value("fs_sale_orders_accepted", { sale: orphan.id })).toBe(1);
  expect(cp.value("fs_sale_orders_unpersisted", { sale: orphan.id })).toBe(1);
  expect(cp.value("fs_sale_inventory_drift_units", { sale: orphan.id })).toBe(0);
});

test("the gateway exports its clock skew against Redis' clock: present and small (same machine)", async () => {
  await afterConfigSync();
  const skew = (await scrape(stack.gateway.metricsUrl)).value("fs_gateway_clock_skew_seconds", {});
  expect(skew).toBeDefined();
  console.log(`gateway clock skew against Redis: ${(skew! * 1000).toFixed(3)} ms`);
  // ngx.now() has millisecond resolution; a loaded machine adds scheduling delay to half a round trip.
  expect(Math.abs(skew!)).toBeLessThan(0.05);
});

test("Redis down: purchases answer 503 and the gateway counts Redis errors", async () => {
  const sale = await stack.controlPlane.createSale({ id: "observed-redis-down", stock: 10 });
  await waitForSale(stack.gateway, sale.id);
  await afterConfigSync();
  const before = await scrape(stack.gateway.metricsUrl);
  await stack.redisServer.stop();

  const statuses = await Promise.all(Array.from({ length: 3 }, (_, i) => purchase(stack.gateway.url, sale.id, signToken(`down-${i}`)).then((r) => r.status)));
  expect(statuses).toEqual([503, 503, 503]);

  const after = await scrape(stack.gateway.metricsUrl);
  const errors = (e: typeof after) => e.value("fs_gateway_redis_errors_total", { op: "purchase" })!;
  expect(errors(after) - errors(before)).toBe(3);
  expect(after.value("fs_gateway_requests_total", { route: "purchase", sale: sale.id, outcome: "unavailable" })).toBe(3);
  // The config sync (every 250 ms per worker) fails too.
  await waitFor("a failed config sync", async () => ((await scrape(stack.gateway.metricsUrl)).value("fs_gateway_redis_errors_total", { op: "config_sync" }) ?? 0) > 0, 3000);
});
