/**
 * Rush benchmark (make bench), with the knobs as shipped (knobs.conf as it is, one nginx
 * worker) and a distinct client address per request, the order worker draining:
 *   1. Sell-out: a sale of BENCH_SELL_OUT_UNITS (10,000) units under a rush of distinct
 *      shoppers; the time from its first acceptance to its last (Redis' clock, acceptedAt), and
 *      from each 202 to its row in Postgres (persisted_at − accepted_at: p50, p99, max).
 *   2. Flat cost: admitted purchases spread over 100 concurrent sales against one sale, in
 *      interleaved pairs (median of the per-pair ratios and their spread).
 *   3. Many shoppers: BENCH_SHOPPERS (1,000,000) distinct shoppers buy in runs of
 *      BENCH_DURATION seconds, on a sale with the default per-shopper rate and burst (so each
 *      shopper's limiter entry lives as long as it would in a real sale); req/s of the first
 *      and the last run, and how full the limiter dict is (fs_gateway_shared_dict_free_bytes
 *      against its capacity) right after the last run.
 * Every part ends counted: units left, orders, rows, distinct buyers against the 202s wrk saw.
 * Uses its own Redis and database, never the stack's. Writes bench/results/rush.json.
 *
 * BENCH_DURATION (default 5), BENCH_RUNS (pairs, default 3), BENCH_CONNECTIONS (default 64),
 * BENCH_NGINX_WORKERS (default 1).
 */
import path from "node:path";
import { saleKeys } from "@flash-sale/contract/keys";
import { waitForSale } from "../tests/support/gateway";
import { scrape } from "../tests/support/prometheus";
import { TestStack } from "../tests/support/test-stack";
import { waitForRows } from "../tests/support/counts";
import { wrkSync, type WrkResult } from "../tests/support/wrk";
import { median, progress, reportProblems, runBenchInScratch, spreadPct, spreadText, writeResults } from "./bench-run";
import { writeShopperTokens } from "./shopper-tokens";

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const WORKERS = process.env.BENCH_NGINX_WORKERS ?? "1";
const SELL_OUT_UNITS = Number(process.env.BENCH_SELL_OUT_UNITS ?? 10_000);
const SHOPPERS = Number(process.env.BENCH_SHOPPERS ?? 1_000_000);
const CONCURRENT_SALES = 100;
const LARGE_STOCK = 50_000_000;
const WIDE_LIMITS = { userRatePerSecond: 1_000_000, userBurst: 1_000_000, admitPerSecond: 1_000_000 };



async function main(tmp: string): Promise<void> {
  progress(`rush with the shipped knobs: nginx workers ${WORKERS}, wrk 1 thread × ${CONNECTIONS} connections, a client address per request`);
  // Before the stack: signing a million tokens holds Node's loop long enough for clients' connects to time out.
  progress(`writing ${SHOPPERS} shoppers' tokens`);
  // Spare tokens beyond SHOPPERS for the sell-out run and part 3's last two runs (30,000 req/s is
  // above what one gateway worker answers here).
  const tokenCount = SHOPPERS + 30_000 * (Math.max(DURATION, 10) + 2 * DURATION);
  const tokens = writeShopperTokens(tmp, "rush", tokenCount);
  const stack = await TestStack.start({ name: "bench_rush", knobs: { worker_processes: WORKERS }, persistentRedis: true, worker: { batchSize: 1000 } });
  const { redis, controlPlane, gateway, db } = stack;
  const problems: string[] = [];
  const script = ["-s", path.join(__dirname, "wrk/purchase.lua")];
  try {
    let offset = 0;
    const run = (urlPath: string, seconds: number, paths?: string[]): WrkResult => {
      const r = wrkSync({
        url: `${gateway.url}${urlPath}`,
        threads: 1,
        connections: CONNECTIONS,
        seconds,
        args: script,
        env: { BENCH_TOKENS: tokens, BENCH_TOKEN_OFFSET: String(offset), BENCH_XFF: "1", ...(paths ? { BENCH_PATHS: paths.join(",") } : {}) },
      });
      offset += r.requests + CONNECTIONS;
      return r;
    };
    const purchasePath = (id: string) => `/api/sales/${id}/purchase`;

    // 1. Sell-out.
    const sellOut = await controlPlane.createSale({ id: "rush-sell-out", stock: SELL_OUT_UNITS, limits: WIDE_LIMITS });
    await waitForSale(gateway, sellOut.id);
    progress(`1. selling out ${SELL_OUT_UNITS} units`);
    const rush = run(purchasePath(sellOut.id), Math.max(DURATION, 10));
    await waitForRows(db.pool, sellOut.id, SELL_OUT_UNITS, 120_000);
    const timing = await db.pool.query<{ first: Date; last: Date; p50: number; p99: number; max: number; rows: number; buyers: number }>(
      `SELECT min(accepted_at) AS first, max(accepted_at) AS last, count(*)::int AS rows, count(DISTINCT user_id)::int AS buyers,
              (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM persisted_at - accepted_at)) * 1000)::float8 AS p50,
              (percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM persisted_at - accepted_at)) * 1000)::float8 AS p99,
              (max(extract(epoch FROM persisted_at - accepted_at)) * 1000)::float8 AS max
         FROM orders WHERE sale_id = $1`,
      [sellOut.id],
    );
    const t = timing.rows[0]!;
    const left = Number(await redis.get(saleKeys(sellOut.id).stock));
    const accepted = rush.requests - rush.non2xx;
    // wrk drops the responses in flight when it stops; sold out long before, none is a 202.
    if (left !== 0 || t.rows !== SELL_OUT_UNITS || t.buyers !== SELL_OUT_UNITS || accepted !== SELL_OUT_UNITS) {
      problems.push(`sell-out does not count: units left ${left}, rows ${t.rows}, distinct buyers ${t.buyers}, 202s seen ${accepted}`);
    }
    const sellOutMs = t.last.getTime() - t.first.getTime();

    // 2. Flat cost: one sale against a hundred.
    const one = await controlPlane.createSale({ id: "rush-one", stock: LARGE_STOCK, limits: WIDE_LIMITS });
    const many: string[] = [];
    for (let i = 0; i < CONCURRENT_SALES; i++) many.push((await controlPlane.createSale({ id: `rush-many-${i}`, stock: LARGE_STOCK, limits: WIDE_LIMITS })).id);
    for (const id of [one.id, ...many]) await waitForSale(gateway, id);
    progress(`2. admitted: one sale vs ${CONCURRENT_SALES} sales, ${RUNS} interleaved pairs`);
    const warmUp = run(purchasePath(one.id), 1);
    const pairs = Array.from({ length: RUNS }, () => ({
      one: run(purchasePath(one.id), DURATION),
      many: run(purchasePath(many[0]!), DURATION, many.map(purchasePath)),
    }));
    const flatRatios = pairs.map((p) => p.many.requestsPerSec / p.one.requestsPerSec);
    const flatRatio = median(flatRatios);
    const flatSpread = spreadPct(flatRatios, flatRatio);
    const refused = pairs.reduce((a, p) => a + p.one.non2xx + p.many.non2xx, 0);
    if (refused > 0) problems.push(`${refused} admitted-row purchases refused`);

    // 3. Every remaining shopper buys once, on one sale with the default per-shopper limits: at
    // least two runs, for a first and a last.
    const crowd = await controlPlane.createSale({ id: "rush-crowd", stock: LARGE_STOCK, limits: { admitPerSecond: WIDE_LIMITS.admitPerSecond } });
    await waitForSale(gateway, crowd.id);
    const crowdLimits = crowd["limits"] as { userRatePerSecond: number; userBurst: number };
    progress(`3. ${Math.max(0, SHOPPERS - offset)} more distinct shoppers buy (${SHOPPERS} in all), per-shopper rate ${crowdLimits.userRatePerSecond}/s, burst ${crowdLimits.userBurst}`);
    const manyRuns: WrkResult[] = [];
    while (offset < SHOPPERS || manyRuns.length < 2) {
      manyRuns.push(run(purchasePath(crowd.id), DURATION));
      progress(`  ${offset} shoppers so far, ${manyRuns.at(-1)!.requestsPerSec.toFixed(0)} req/s`);
    }
    let taken = 0;
    for (const id of [one.id, ...many, crowd.id]) taken += LARGE_STOCK - Number(await redis.get(saleKeys(id).stock));
    const runs = [warmUp, ...pairs.flatMap((p) => [p.one, p.many]), ...manyRuns];
    const seen = runs.reduce((a, r) => a + r.requests - r.non2xx, 0);
    // wrk drops the responses still in flight when it stops: at most one per connection and run.
    if (taken < seen || taken > seen + CONNECTIONS * runs.length) problems.push(`units taken ${taken} do not match the ${seen} 202s wrk saw`);
    const metrics = await scrape(gateway.metricsUrl);
    const capacity = metrics.value("fs_gateway_shared_dict_capacity_bytes", { dict: "fs_limits" }) ?? NaN;
    const free = metrics.value("fs_gateway_shared_dict_free_bytes", { dict: "fs_limits" }) ?? NaN;
    const tokensWrapped = offset > tokenCount;
    if (tokensWrapped) problems.push("the token file ran out: some shoppers bought twice (raise BENCH_SHOPPERS)");

    console.log("");
    console.log(`| row | figure |`);
    console.log("|---|---:|");
    console.log(`| sell-out of ${SELL_OUT_UNITS} units: first to last acceptance | ${sellOutMs} ms (rush ${rush.requestsPerSec.toFixed(0)} req/s, p99 ${rush.p99Ms.toFixed(1)} ms) |`);
    console.log(`| 202 → row in Postgres | p50 ${t.p50.toFixed(0)} ms, p99 ${t.p99.toFixed(0)} ms, max ${t.max.toFixed(0)} ms (goal p99 ≤ 1000) |`);
    console.log(`| admitted over ${CONCURRENT_SALES} sales / over one | ${flatRatio.toFixed(2)} (pairs ${flatRatios.map((r) => r.toFixed(2)).join(", ")}; spread ${spreadText(flatSpread)}) |`);
    console.log(`| admitted, first vs last run of ${offset} shoppers | ${manyRuns[0]!.requestsPerSec.toFixed(0)} → ${manyRuns.at(-1)!.requestsPerSec.toFixed(0)} req/s |`);
    console.log(`| fs_limits dict right after ${offset} shoppers (default per-shopper limits) | ${(100 * (1 - free / capacity)).toFixed(1)} % used of ${(capacity / 1048576).toFixed(0)} MiB |`);
    writeResults("rush", {
      nginxWorkers: WORKERS,
      sellOut: { units: SELL_OUT_UNITS, firstToLastAcceptanceMs: sellOutMs, rushRequestsPerSec: rush.requestsPerSec, rowLagMs: { p50: t.p50, p99: t.p99, max: t.max } },
      flatCost: { sales: CONCURRENT_SALES, ratios: flatRatios, ratio: flatRatio, spreadPct: flatSpread },
      shoppers: { count: offset, runsRequestsPerSec: manyRuns.map((r) => r.requestsPerSec), limitsDictUsedPct: 100 * (1 - free / capacity) },
      problems,
    });
    reportProblems(problems);
  } finally {
    await stack.stop();
  }
}

runBenchInScratch("fs-bench-rush-", main);
