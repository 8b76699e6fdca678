/**
 * Webhooks benchmark (make bench): the control plane's dispatcher (compiled, its knobs as
 * shipped but private URLs allowed) delivering to a receiver in this process that verifies every
 * signature with the standardwebhooks library and answers 204.
 *   1. Events per second: BENCH_WEBHOOK_EVENTS (10,000) order events written to the outbox in one
 *      transaction, as the worker writes them; the time from that commit to the last one
 *      accepted, with one control plane and then two sharing the outbox.
 *   2. Lag at the drain rate: a sale of BENCH_WEBHOOK_UNITS (10,000) units sold out by wrk
 *      (distinct shoppers, knobs as shipped, the order worker draining as fast as it can); for
 *      each order, from its acceptance (the 202: acceptedAt, Redis' clock) to its order.confirmed
 *      answered 2xx, p50/p99/max, beside the 202 → row in Postgres of the same orders.
 * Counted: every event accepted, every signature verified, every 202 an order and a row. Uses
 * its own Redis and database. Writes bench/results/webhooks.json.
 *
 * BENCH_DURATION (wrk's seconds, default 5), BENCH_CONNECTIONS (default 64).
 */
import os from "node:os";
import path from "node:path";
import type { Pool } from "@flash-sale/node-common";
import { waitForRows } from "../tests/support/counts";
import { ControlPlaneProcess } from "../tests/support/control-plane-process";
import { waitForSale } from "../tests/support/gateway";
import { waitFor } from "../tests/support/stream-fixtures";
import { TestStack } from "../tests/support/test-stack";
import { Receiver, unverified } from "../tests/support/webhook-receiver";
import { wrkAsync } from "../tests/support/wrk";
import { progress, reportProblems, runBenchInScratch, writeResults } from "./bench-run";
import { writeShopperTokens } from "./shopper-tokens";

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 10_000);
const UNITS = Number(process.env.BENCH_WEBHOOK_UNITS ?? 10_000);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const WIDE_LIMITS = { userRatePerSecond: 1_000_000, userBurst: 1_000_000, admitPerSecond: 1_000_000 };

/** `EVENTS` order.confirmed events of `saleId` in one transaction, their data shaped as the worker writes it. */
async function fillOutbox(pool: Pool, saleId: string): Promise<void> {
  await pool.query(
    `INSERT INTO webhook_events (type, subject, sale_id, order_id, data)
     SELECT 'order.confirmed', o, $1, o, jsonb_build_object('orderId', o, 'saleId', $1::text, 'userId', 'user-' || i,
              'quantity', 1, 'price', 990, 'currency', 'EUR', 'amount', 990, 'status', 'confirmed',
              'acceptedAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'statusChangedAt', NULL)
       FROM generate_series(1, $2::int) i, LATERAL (SELECT $1 || '-' || i AS o) ids`,
    [saleId, EVENTS],
  );
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The first 2xx of each event of `saleId`, by order id. */
function firstAccepted(shop: Receiver, saleId: string): Map<string, { at: number; okAt: number; acceptedAt: string }> {
  const first = new Map<string, { at: number; okAt: number; acceptedAt: string }>();
  for (const r of shop.received) {
    if (r.data.saleId !== saleId || r.okAt === undefined || first.has(r.data.orderId!)) continue;
    first.set(r.data.orderId!, { at: r.at, okAt: r.okAt, acceptedAt: String(r.data.acceptedAt) });
  }
  return first;
}

async function main(tmp: string): Promise<void> {
  const tokens = writeShopperTokens(tmp, "webhooks", 30_000 * (DURATION + 2));
  const stack = await TestStack.start({ name: "bench_webhooks", knobs: { worker_processes: "1" }, persistentRedis: true, worker: { batchSize: 1000 } });
  const shop = new Receiver();
  await shop.listen();
  const controlPlanes: ControlPlaneProcess[] = [];
  const startControlPlane = async () =>
    controlPlanes.push(
      await ControlPlaneProcess.start({
        redisUrl: stack.redisServer.url(),
        databaseUrl: stack.db.url,
        gatewayMetricsUrl: stack.gateway.metricsUrl,
        env: { FS_WEBHOOK_ALLOW_PRIVATE_URLS: "true", FS_LOG_LEVEL: "warn" },
      }),
    );
  const problems: string[] = [];
  try {
    await startControlPlane();
    const endpoint = await controlPlanes[0]!.admin("POST", "/admin/api/webhooks", { url: shop.url, events: ["order.confirmed"] });
    if (endpoint.status !== 201) throw new Error(`endpoint not created: ${JSON.stringify(endpoint)}`);
    shop.secrets = [endpoint.body.secret];

    // 1. Events per second from a filled outbox.
    const throughput: { dispatchers: number; events: number; seconds: number; eventsPerSecond: number; requests: number }[] = [];
    for (const dispatchers of [1, 2]) {
      while (controlPlanes.length < dispatchers) await startControlPlane();
      const saleId = `outbox-${dispatchers}`;
      const before = shop.received.length;
      progress(`1. ${EVENTS} events in the outbox, ${dispatchers} control plane(s) delivering`);
      const t0 = Date.now();
      await fillOutbox(stack.db.pool, saleId);
      await waitFor(`${EVENTS} events accepted`, () => firstAccepted(shop, saleId).size === EVENTS, 600_000);
      const last = Math.max(...[...firstAccepted(shop, saleId).values()].map((f) => f.okAt));
      const seconds = (last - t0) / 1000;
      throughput.push({ dispatchers, events: EVENTS, seconds, eventsPerSecond: Math.round(EVENTS / seconds), requests: shop.received.length - before });
      progress(`   ${EVENTS} events in ${seconds.toFixed(2)} s: ${Math.round(EVENTS / seconds)} events/s (${shop.received.length - before} requests)`);
    }
    await controlPlanes.pop()!.stop();

    // 2. From each 202 to its order.confirmed delivered, while the worker drains a sell-out.
    const sale = await stack.controlPlane.createSale({ id: "webhooks-rush", stock: UNITS, limits: WIDE_LIMITS });
    await waitForSale(stack.gateway, sale.id);
    progress(`2. selling out ${UNITS} units (wrk, ${CONNECTIONS} connections, ${DURATION} s), one control plane delivering`);
    // Not wrkSync: the receiver lives in this process and must answer while wrk runs.
    const rush = await wrkAsync({
      url: `${stack.gateway.url}/api/sales/${sale.id}/purchase`,
      threads: 1,
      connections: CONNECTIONS,
      seconds: DURATION,
      args: ["-s", path.join(__dirname, "wrk/purchase.lua")],
      env: { BENCH_TOKENS: tokens, BENCH_XFF: "1" },
    });
    const accepted = rush.requests - rush.non2xx;
    await waitForRows(stack.db.pool, sale.id, UNITS, 120_000);
    await waitFor("every order.confirmed accepted", () => firstAccepted(shop, sale.id).size >= UNITS, 600_000);
    const delivered = [...firstAccepted(shop, sale.id).values()];
    const lags = delivered.map((f) => f.okAt - Date.parse(f.acceptedAt)).sort((a, b) => a - b);
    const { rows } = await stack.db.pool.query<{ rows: number; p50: number; p99: number; max: number; first: Date; last: Date }>(
      `SELECT count(*)::int AS rows, min(accepted_at) AS first, max(persisted_at) AS last,
              (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM persisted_at - accepted_at)) * 1000)::float8 AS p50,
              (percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM persisted_at - accepted_at)) * 1000)::float8 AS p99,
              (max(extract(epoch FROM persisted_at - accepted_at)) * 1000)::float8 AS max
         FROM orders WHERE sale_id = $1`,
      [sale.id],
    );
    const row = rows[0]!;
    const firstAcceptedAt = row.first.getTime();
    const lastDelivery = Math.max(...delivered.map((f) => f.okAt));
    const drainSeconds = (row.last.getTime() - firstAcceptedAt) / 1000;
    const deliverSeconds = (lastDelivery - firstAcceptedAt) / 1000;
    const lag = { p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: lags[lags.length - 1]! };

    const bad = unverified(shop).length;
    if (bad > 0) problems.push(`${bad} requests whose signature did not verify`);
    if (accepted !== UNITS || row.rows !== UNITS || delivered.length !== UNITS) {
      problems.push(`the sale does not count: 202s ${accepted}, rows ${row.rows}, orders delivered ${delivered.length}, units ${UNITS}`);
    }

    console.log("");
    console.log("| row | figure |");
    console.log("|---|---|");
    for (const t of throughput) console.log(`| events/s, outbox of ${t.events}, ${t.dispatchers} control plane(s) | ${t.eventsPerSecond} (${t.seconds.toFixed(2)} s, ${t.requests} requests) |`);
    console.log(`| sell-out of ${UNITS}: drained (first 202 → last row) | ${drainSeconds.toFixed(2)} s, ${Math.round(UNITS / drainSeconds)} orders/s |`);
    console.log(`| sell-out: delivered (first 202 → last order.confirmed) | ${deliverSeconds.toFixed(2)} s, ${Math.round(UNITS / deliverSeconds)} events/s |`);
    console.log(`| 202 → row in Postgres | p50 ${row.p50.toFixed(0)} ms, p99 ${row.p99.toFixed(0)} ms, max ${row.max.toFixed(0)} ms |`);
    console.log(`| 202 → order.confirmed answered 2xx | p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms |`);
    writeResults("webhooks", {
      throughput,
      sellOut: { units: UNITS, rushRequestsPerSec: rush.requestsPerSec, drainSeconds, deliverSeconds, rowLagMs: { p50: row.p50, p99: row.p99, max: row.max }, deliveryLagMs: lag },
      requests: shop.received.length,
      machine: { cpus: os.cpus().length, loadavg: os.loadavg(), node: process.version },
    });
    reportProblems(problems);
  } finally {
    for (const cp of controlPlanes) await cp.stop();
    await shop.down();
    await stack.stop();
  }
}

runBenchInScratch("fs-bench-webhooks-", main);
