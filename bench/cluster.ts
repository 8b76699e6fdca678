/**
 * Cluster benchmark (make bench): admitted purchases per second over ten sales, on one Redis
 * primary against a Redis Cluster of three primaries (no replicas on either side, AOF everysec
 * on both), through one gateway each with the same knobs. Runs alternate (one, three, one,
 * three …); the table gives each side's median, the median of the per-pair ratios and their
 * spread, and the CPU each side's Redis used per second of load, which says whether Redis or
 * the gateway was the limit. Then, on the cluster, one hot sale alone: in 1 stock bucket (one
 * slot, one primary) against 3 buckets (three slots on the three primaries), alternated the same
 * way. Uses its own Redis servers and database, never the stack's.
 *
 * BENCH_DURATION (seconds per run, default 5), BENCH_RUNS (pairs, default 3),
 * BENCH_CONNECTIONS (default 64), BENCH_THREADS (default 1), BENCH_NGINX_WORKERS (default 1).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { keySlot } from "@flash-sale/contract/cluster";
import { bucketKeysOf, saleKeys } from "@flash-sale/contract/keys";
import { createRedis, type Redis } from "@flash-sale/node-common";
import { ControlPlane } from "../tests/support/control-plane";
import { Gateway, LOAD_TEST_KNOBS, waitForSale } from "../tests/support/gateway";
import { PrivateCluster } from "../tests/support/private-cluster";
import { PrivateRedis } from "../tests/support/private-redis";
import { createTestDatabase } from "../tests/support/test-database";
import { wrkSync, type WrkResult } from "../tests/support/wrk";
import { median, progress, reportProblems, runBench, spreadPct, spreadText, writeResults } from "./bench-run";
import { writeShopperTokens } from "./shopper-tokens";

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const WORKERS = process.env.BENCH_NGINX_WORKERS ?? "1";
const SALES = 10;
const STOCK = 50_000_000;
const WIDE_LIMITS = { userRatePerSecond: 1_000_000, userBurst: 1_000_000, admitPerSecond: 1_000_000 };


interface Side {
  label: string;
  gateway: Gateway;
  controlPlane: ControlPlane;
  /** One client per primary, to read each one's CPU. */
  primaries: Redis[];
  saleIds: string[];
  offset: number;
}

interface SideRun {
  result: WrkResult;
  /** CPU seconds the side's Redis servers used per second of the run. */
  redisCpu: number;
}

/** Seconds of CPU (user + sys) the Redis servers have used so far. */
async function redisCpuSeconds(side: Side): Promise<number> {
  let total = 0;
  for (const r of side.primaries) {
    const info = await r.info("cpu");
    total += Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
  }
  return total;
}

/** Sale ids spread over the cluster's primaries as evenly as ids allow. */
async function idsOverShards(cluster: PrivateCluster, prefix: string): Promise<string[]> {
  const ranges = await cluster.slotRanges();
  const perPrimary = new Map<number, number>();
  const ids: string[] = [];
  for (let i = 0; ids.length < SALES; i++) {
    const id = `${prefix}-${i}`;
    const slot = keySlot(saleKeys(id).stock);
    const primary = ranges.find((r) => slot >= r.start && slot <= r.end)!.primary;
    if ((perPrimary.get(primary) ?? 0) >= Math.ceil(SALES / ranges.length)) continue;
    perPrimary.set(primary, (perPrimary.get(primary) ?? 0) + 1);
    ids.push(id);
  }
  return ids;
}

async function main(): Promise<void> {
  progress(`admitted purchases over ${SALES} sales: 1 Redis primary vs a cluster of 3; nginx workers ${WORKERS}, wrk ${THREADS} thread(s) × ${CONNECTIONS} connections, ${RUNS} pairs × ${DURATION} s`);
  const knobs = { ...LOAD_TEST_KNOBS, worker_processes: WORKERS, access_log: "off" };
  const db = await createTestDatabase("bench_cluster");
  const single = await PrivateRedis.start({ persistent: true, appendfsync: "everysec" });
  const cluster = await PrivateCluster.start(3, 0);
  const tmp = mkdtempSync(path.join(os.tmpdir(), "fs-bench-cluster-"));
  const sides: Side[] = [];
  try {
    const oneGateway = await Gateway.start({ redisUrl: single.url(), knobs });
    sides.push({
      label: "1 primary",
      gateway: oneGateway,
      controlPlane: await ControlPlane.start(db.pool, single.url(), oneGateway.metricsUrl),
      primaries: [createRedis(single.url(), "bench-cpu")],
      saleIds: Array.from({ length: SALES }, (_, i) => `one-primary-${i}`),
      offset: 0,
    });
    const threeGateway = await Gateway.start({ redisUrl: cluster.url, clusterNodes: cluster.nodes, knobs });
    sides.push({
      label: "3 primaries",
      gateway: threeGateway,
      controlPlane: await ControlPlane.start(db.pool, cluster.url, threeGateway.metricsUrl, cluster.nodes),
      primaries: (await cluster.primaries()).map((port) => createRedis(`redis://127.0.0.1:${port}/0`, "bench-cpu")),
      saleIds: await idsOverShards(cluster, "three-primaries"),
      offset: 0,
    });
    progress(`preparing ${SALES} sales on each side and shopper tokens`);
    for (const side of sides) {
      for (const id of side.saleIds) await side.controlPlane.createSale({ id, stock: STOCK, limits: WIDE_LIMITS });
      for (const id of side.saleIds) await waitForSale(side.gateway, id);
    }
    const tokens = writeShopperTokens(tmp, "cluster-shopper", 30_000 * (DURATION * RUNS + 1));
    const script = ["-s", path.join(__dirname, "wrk/purchase.lua")];
    const run = async (side: Side, seconds: number): Promise<SideRun> => {
      const cpuBefore = await redisCpuSeconds(side);
      const result = wrkSync({
        url: `${side.gateway.url}/api/sales/${side.saleIds[0]}/purchase`,
        threads: THREADS,
        connections: CONNECTIONS,
        seconds,
        args: script,
        env: {
          BENCH_TOKENS: tokens,
          BENCH_THREADS: String(THREADS),
          BENCH_TOKEN_OFFSET: String(side.offset),
          BENCH_PATHS: side.saleIds.map((id) => `/api/sales/${id}/purchase`).join(","),
        },
      });
      side.offset += result.requests + CONNECTIONS;
      return { result, redisCpu: ((await redisCpuSeconds(side)) - cpuBefore) / seconds };
    };
    /** RUNS runs of `one` then `three`, each pair reported as it ends. */
    const runPairs = async (one: Side, three: Side): Promise<{ one: SideRun; three: SideRun }[]> => {
      const done: { one: SideRun; three: SideRun }[] = [];
      for (let i = 0; i < RUNS; i++) {
        const pair = { one: await run(one, DURATION), three: await run(three, DURATION) };
        progress(`  pair ${i + 1}: ${pair.one.result.requestsPerSec.toFixed(0)} vs ${pair.three.result.requestsPerSec.toFixed(0)} req/s`);
        done.push(pair);
      }
      return done;
    };
    for (const side of sides) await run(side, 1); // warm-up
    const pairs = await runPairs(sides[0]!, sides[1]!);

    const problems: string[] = [];
    for (const [i, side] of sides.entries()) {
      const runs = pairs.map((p) => (i === 0 ? p.one : p.three).result);
      const refused = runs.reduce((a, r) => a + r.non2xx, 0);
      if (refused > 0) problems.push(`${side.label}: ${refused} purchases refused`);
      let sold = 0;
      const counter = i === 0 ? side.primaries[0]! : cluster.client("bench-count");
      for (const id of side.saleIds) sold += STOCK - Number(await counter.get(saleKeys(id).stock));
      if (i === 1) counter.disconnect();
      if (sold > side.offset) problems.push(`${side.label}: ${sold} units taken, more than the ${side.offset} requests sent`);
      console.log(`check (${side.label}): units taken in Redis over ${SALES} sales ${sold}, requests sent ${side.offset}`);
    }
    const ratios = pairs.map((p) => p.three.result.requestsPerSec / p.one.result.requestsPerSec);
    const ratio = median(ratios);
    const spread = spreadPct(ratios, ratio);
    console.log("");
    console.log(`| side | admitted req/s (median) | p99 ms | Redis CPU per s of load (all primaries) |`);
    console.log("|---|---:|---:|---:|");
    for (const [label, runs] of [["1 primary", pairs.map((p) => p.one)], ["3 primaries", pairs.map((p) => p.three)]] as const) {
      console.log(`| ${label} | ${median(runs.map((r) => r.result.requestsPerSec)).toFixed(0)} | ${median(runs.map((r) => r.result.p99Ms)).toFixed(2)} | ${median(runs.map((r) => r.redisCpu)).toFixed(2)} |`);
    }
    console.log(`3 primaries / 1 primary: ${ratio.toFixed(2)} (median of ${RUNS} pairs: ${ratios.map((r) => r.toFixed(2)).join(", ")}; spread ${spreadText(spread)})`);
    console.log(`(${os.cpus().length} cores shared by wrk, the gateway and every Redis: a Redis CPU well under 1.0 per second of load means the gateway, not Redis, set the pace)`);

    // One hot sale on the 3 primaries: 1 stock bucket against 3 (units never run out: no moves).
    progress(`one hot sale on 3 primaries: 1 stock bucket vs 3, ${RUNS} pairs × ${DURATION} s`);
    const hot = (buckets: number): Side => ({ ...sides[1]!, label: `${buckets} bucket${buckets > 1 ? "s" : ""}`, saleIds: [`hot-${buckets}-buckets`], offset: 0 });
    const hotSides = [hot(1), hot(3)];
    for (const [i, side] of hotSides.entries()) {
      await side.controlPlane.createSale({ id: side.saleIds[0]!, stock: STOCK, stockBuckets: i === 0 ? 1 : 3, limits: WIDE_LIMITS });
      await waitForSale(side.gateway, side.saleIds[0]!);
      await run(side, 1); // warm-up
    }
    const hotPairs = await runPairs(hotSides[0]!, hotSides[1]!);
    const counter = cluster.client("bench-count");
    for (const [i, side] of hotSides.entries()) {
      const runs = hotPairs.map((p) => (i === 0 ? p.one : p.three).result);
      const refused = runs.reduce((a, r) => a + r.non2xx, 0);
      if (refused > 0) problems.push(`${side.label}: ${refused} purchases refused`);
      let sold = 0;
      for (const k of bucketKeysOf(side.saleIds[0]!, i === 0 ? 1 : 3)) sold += Number(await counter.get(k.sold));
      if (sold > side.offset) problems.push(`${side.label}: ${sold} units taken, more than the ${side.offset} requests sent`);
      console.log(`check (hot sale, ${side.label}): units taken in Redis ${sold}, requests sent ${side.offset}`);
    }
    counter.disconnect();
    const hotRatios = hotPairs.map((p) => p.three.result.requestsPerSec / p.one.result.requestsPerSec);
    const hotRatio = median(hotRatios);
    const hotSpread = spreadPct(hotRatios, hotRatio);
    console.log("");
    console.log(`| one hot sale on 3 primaries | admitted req/s (median) | p99 ms | Redis CPU per s of load (all primaries) |`);
    console.log("|---|---:|---:|---:|");
    for (const [label, runs] of [["1 stock bucket", hotPairs.map((p) => p.one)], ["3 stock buckets", hotPairs.map((p) => p.three)]] as const) {
      console.log(`| ${label} | ${median(runs.map((r) => r.result.requestsPerSec)).toFixed(0)} | ${median(runs.map((r) => r.result.p99Ms)).toFixed(2)} | ${median(runs.map((r) => r.redisCpu)).toFixed(2)} |`);
    }
    console.log(`3 buckets / 1 bucket: ${hotRatio.toFixed(2)} (median of ${RUNS} pairs: ${hotRatios.map((r) => r.toFixed(2)).join(", ")}; spread ${spreadText(hotSpread)})`);
    writeResults("cluster", {
      nginxWorkers: WORKERS,
      sales: SALES,
      pairs: pairs.map((p) => ({ onePrimary: p.one, threePrimaries: p.three })),
      ratio,
      spreadPct: spread,
      hotSale: { pairs: hotPairs.map((p) => ({ oneBucket: p.one, threeBuckets: p.three })), ratio: hotRatio, spreadPct: hotSpread },
      problems,
    });
    reportProblems(problems);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    for (const side of sides) {
      for (const r of side.primaries) r.disconnect();
      await side.controlPlane.stop();
      await side.gateway.stop();
    }
    await cluster.destroy();
    await single.destroy();
    await db.close();
  }
}

runBench(main);
