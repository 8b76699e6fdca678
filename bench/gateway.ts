/**
 * Gateway benchmark (make bench): wrk against a real nginx running the compiled Lua, with its
 * ceilings measured in the same run on the same nginx build and worker count:
 *   - `return 200` from nginx itself            → ceiling of a purchase turned away
 *   - one Redis INCR through the gateway's pool → ceiling of a purchase admitted, with the AOF
 *     fsynced everysec and again always
 * Rows: purchase turned away (sold-out sale, distinct shoppers), a waiting room's queue poll
 * (distinct shoppers with their tickets: bench/queue-poll.ts) and purchase admitted (large
 * stock, distinct shoppers, valid JWTs) in each durability mode (docs/guarantees.md,
 * "What a 202 guarantees"): appendfsync everysec, always, and a replica acknowledging (a local replica
 * redis-server, attached in all three, and a second gateway with redis_wait_replicas = 1), their
 * runs alternating. Prints progress and tables; writes bench/results/gateway.json. Uses its own
 * Redis (AOF on) and database, never the stack's.
 *
 * The ceilings alone are the median of BENCH_RUNS runs (default 3) after a one-second warm-up.
 * Each row runs in interleaved pairs with its ceiling (ceiling, row, ceiling, row …; the
 * durability modes' runs alternate, each right after a run of its INCR ceiling), since these
 * machines are shared and one run can be disturbed: its ratio is the median of the per-pair
 * ratios, printed with their spread. Then the rows again with the knobs as shipped and a
 * distinct client address per request, in pairs the same way, with the nginx worker's CPU per
 * request beside req/s.
 *
 * BENCH_DURATION (seconds per run, default 5), BENCH_RUNS (default 3), BENCH_CONNECTIONS
 * (default 64), BENCH_THREADS (default 1), BENCH_NGINX_WORKERS (default 1). Run: make bench (or `npx tsx bench/gateway.ts` with .env.local loaded).
 */
import path from "node:path";
import { saleKeys } from "@flash-sale/contract/keys";
import { Gateway, LOAD_TEST_KNOBS, waitForSale } from "../tests/support/gateway";
import { PrivateRedis } from "../tests/support/private-redis";
import { waitFor } from "../tests/support/stream-fixtures";
import { scrape } from "../tests/support/prometheus";
import { TestStack } from "../tests/support/test-stack";
import { purchase } from "../tests/support/http";
import { signToken } from "../tests/support/tokens";
import { wrkSync, type WrkResult } from "../tests/support/wrk";
import { prepareQueuePoll } from "./queue-poll";
import { writeShopperTokens } from "./shopper-tokens";
import { measureSide, pairFigures, type MeasuredSide, type PairFigures } from "./paired-rows";
import { median, progress, reportProblems, runBenchInScratch, spreadPct, spreadText, writeResults } from "./bench-run";

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const WORKERS = process.env.BENCH_NGINX_WORKERS ?? "1";
const BENCH_DIR = __dirname;
const WIDE_LIMITS = { userRatePerSecond: 1_000_000, userBurst: 1_000_000, admitPerSecond: 1_000_000 };

function wrkOnce(url: string, extra: string[], env: NodeJS.ProcessEnv, seconds: number): WrkResult {
  return wrkSync({ url, threads: THREADS, connections: CONNECTIONS, seconds, args: extra, env });
}

/**
 * A warm-up, then RUNS runs; the run with the median req/s stands for the row. Requests of all
 * runs are added up. Each run starts its shoppers where the previous one stopped.
 */
function wrk(url: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): WrkResult {
  let offset = 0;
  const run = (seconds: number): WrkResult => {
    const r = wrkOnce(url, extra, { ...env, BENCH_TOKEN_OFFSET: String(offset) }, seconds);
    offset += r.requests + CONNECTIONS;
    return r;
  };
  const warmUp = run(1);
  const runs = Array.from({ length: RUNS }, () => run(DURATION));
  const middle = [...runs].sort((a, b) => a.requestsPerSec - b.requestsPerSec)[Math.floor(RUNS / 2)]!;
  progress(`  runs: ${runs.map((r) => r.requestsPerSec.toFixed(0)).join(", ")} req/s`);
  const all = [warmUp, ...runs];
  return {
    ...middle,
    requests: all.reduce((a, r) => a + r.requests, 0),
    non2xx: all.reduce((a, r) => a + r.non2xx, 0),
    socketErrors: all.reduce((a, r) => a + r.socketErrors, 0),
  };
}

/** The durability modes of docs/guarantees.md ("What a 202 guarantees"), each measured on its own sale. */
type Mode = "everysec" | "always" | "replica";
const MODES: Mode[] = ["everysec", "always", "replica"];
const MODE_LABELS: Record<Mode, string> = {
  everysec: "appendfsync everysec",
  always: "appendfsync always",
  replica: "replica acknowledging (WAIT 1, primary everysec)",
};
const LARGE_STOCK = 50_000_000;

/** A row and its ceiling measured in interleaved pairs. */
type PairedRow = { label: string } & PairFigures;


/** One side of a pair: a URL and its wrk script and environment; `usesShoppers` if it admits (each shopper buys once). */
interface Side {
  url: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  usesShoppers?: boolean;
}

/**
 * Rows against their ceilings on one gateway in interleaved pairs (ceiling, row, ceiling, row …
 * RUNS pairs after a warm-up of the ceiling): the median of the per-pair ratios of req/s and of
 * the nginx worker's CPU per request, and their spreads. Shoppers are numbered on across calls.
 */
function pairsOn(gateway: Gateway): (label: string, ceiling: Side, row: Side) => PairedRow {
  let offset = 0;
  const runSide = (side: Side): MeasuredSide => {
    const r = measureSide(gateway, () => wrkOnce(side.url, side.args, { ...side.env, BENCH_TOKEN_OFFSET: String(offset) }, DURATION));
    if (side.usesShoppers === true) offset += r.requests + CONNECTIONS;
    return r;
  };
  return (label, ceiling, row) => {
    progress(`  pairs: ${label}`);
    runSide(ceiling); // warm-up
    const pairs = Array.from({ length: RUNS }, () => ({ ceiling: runSide(ceiling), row: runSide(row) }));
    return { label, ...pairFigures(pairs) };
  };
}


interface ModeRun {
  result: WrkResult;
  scriptUsec: number | undefined;
  /** Against the INCR ceiling run just before it. */
  ratio: number;
}

async function main(tmp: string): Promise<void> {
  progress(`nginx workers ${WORKERS}, wrk ${THREADS} thread(s) × ${CONNECTIONS} connections, ${RUNS} runs × ${DURATION} s per row`);
  const knobs = { ...LOAD_TEST_KNOBS, worker_processes: WORKERS, access_log: "off" };
  const stack = await TestStack.start({ name: "bench_gateway", knobs, benchListen: true, persistentRedis: true, appendfsync: "everysec" });
  const { redis, controlPlane, gateway } = stack;
  // No AOF rewrite (a fork and a rewrite of the whole file) in the middle of a row.
  await redis.config("SET", "auto-aof-rewrite-percentage", "0");
  let replicaServer: PrivateRedis | undefined;
  let waitingGateway: Gateway | undefined;
  try {
    progress("preparing a sold-out sale, a large one per durability mode, and shopper tokens");
    const soldOut = await controlPlane.createSale({ id: "bench-sold-out", stock: 1, limits: WIDE_LIMITS });
    const large = (mode: Mode) => `bench-large-${mode}`;
    for (const mode of MODES) {
      await controlPlane.createSale({ id: large(mode), stock: LARGE_STOCK, limits: WIDE_LIMITS });
      await waitForSale(gateway, large(mode));
    }
    await waitForSale(gateway, soldOut.id);
    await purchase(gateway.url, soldOut.id, signToken("first-and-only"));
    // Before the tokens are written: the control plane's idle connection would be closed by then.
    const poll = await prepareQueuePoll(redis, controlPlane, gateway, tmp, WIDE_LIMITS);
    // Enough distinct shoppers for every run of a row at 30,000 req/s, above what one Redis
    // round trip allows here; the admitted rows' check below fails if they ran out.
    const shoppers = 30_000 * (DURATION * RUNS + 1);
    const tokens = writeShopperTokens(tmp, "shopper", shoppers);
    const wrkEnv = { BENCH_TOKENS: tokens, BENCH_THREADS: String(THREADS) };
    const script = ["-s", path.join(BENCH_DIR, "wrk/purchase.lua")];
    const problems: string[] = [];

    // The ceilings get the same requests from the same wrk script, so the client's cost is
    // the same on both sides of each ratio.
    const ceilingUrl = `http://127.0.0.1:${gateway.benchPort}`;
    progress("ceiling 1: nginx `return 200`");
    const return200 = wrk(`${ceilingUrl}/ceiling/return-200`, script, wrkEnv);
    progress("ceiling 2: one Redis INCR through the gateway's pool (appendfsync everysec)");
    const incrEverysec = wrk(`${ceilingUrl}/ceiling/redis-incr`, script, wrkEnv);
    await redis.config("SET", "appendfsync", "always");
    progress("ceiling 3: one Redis INCR through the gateway's pool (appendfsync always)");
    const incrAlways = wrk(`${ceilingUrl}/ceiling/redis-incr`, script, wrkEnv);
    await redis.config("SET", "appendfsync", "everysec");

    // Each row against its ceiling in interleaved pairs, so the machine's noise hits both alike.
    const labPaired = pairsOn(gateway);
    const return200Side: Side = { url: `${ceilingUrl}/ceiling/return-200`, args: script, env: wrkEnv };
    progress(`purchase turned away (sold-out sale, distinct shoppers) against return 200`);
    const turnedAway = labPaired("turned away (sold out) vs return 200", return200Side, { url: `${gateway.url}/api/sales/${soldOut.id}/purchase`, args: script, env: wrkEnv });
    progress("queue poll (a waiting room's GET …/queue with each shopper's ticket) against return 200");
    const queuePoll = labPaired("queue poll vs return 200", return200Side, { url: poll.url, args: poll.script, env: { ...poll.env, BENCH_THREADS: String(THREADS) } });
    if (queuePoll.rowNon2xx !== 0) problems.push(`${queuePoll.rowNon2xx} queue polls were refused`);

    if (turnedAway.rowNon2xx !== turnedAway.rowRequests) problems.push("some turned-away-row requests were accepted");

    // A replica is attached during every mode's runs, as in a deployment with failover; only the
    // replica mode waits for it. The modes' runs alternate, so the machine's noise hits them alike.
    progress("starting a replica, and a second gateway with redis_wait_replicas = 1");
    replicaServer = await PrivateRedis.start({ replicaOf: stack.redisServer.port });
    await waitFor("the replica in sync", async () => /slave0:.*state=online/.test(await redis.info("replication")), 120_000);
    waitingGateway = await Gateway.start({ redisUrl: stack.redisServer.url(), knobs: { ...knobs, redis_wait_replicas: "1", redis_wait_timeout_ms: "100" } });
    await waitForSale(waitingGateway, large("replica"));
    const gatewayOf = (mode: Mode) => (mode === "replica" ? (waitingGateway as Gateway) : gateway);
    const offsets: Record<Mode, number> = { everysec: 0, always: 0, replica: 0 };
    const runs: Record<Mode, ModeRun[]> = { everysec: [], always: [], replica: [] };
    // Each run right after a run of its ceiling (one INCR, same fsync policy): the pair's ratio.
    const runMode = async (mode: Mode, seconds: number): Promise<ModeRun> => {
      await redis.config("SET", "appendfsync", mode === "always" ? "always" : "everysec");
      const ceiling = wrkOnce(`${ceilingUrl}/ceiling/redis-incr`, script, wrkEnv, seconds);
      await redis.config("RESETSTAT");
      const result = wrkOnce(`${gatewayOf(mode).url}/api/sales/${large(mode)}/purchase`, script, { ...wrkEnv, BENCH_TOKEN_OFFSET: String(offsets[mode]) }, seconds);
      offsets[mode] += result.requests + CONNECTIONS;
      const stats = /cmdstat_evalsha:calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/.exec(await redis.info("commandstats"));
      return { result, scriptUsec: stats === null ? undefined : Number(stats[2]), ratio: result.requestsPerSec / ceiling.requestsPerSec };
    };
    progress(`purchase admitted in each mode, runs alternating (large stocks, ${shoppers} distinct shoppers per mode)`);
    const warmUps = [];
    for (const mode of MODES) warmUps.push(await runMode(mode, 1));
    for (let i = 0; i < RUNS; i++) for (const mode of MODES) runs[mode].push(await runMode(mode, DURATION));

    const modes = {} as Record<Mode, { result: WrkResult; scriptUsec: number | undefined; sold: number; accepted: number; notReplicated: number; ratios: number[]; ratio: number }>;
    for (const mode of MODES) {
      progress(`  ${mode} runs: ${runs[mode].map((r) => r.result.requestsPerSec.toFixed(0)).join(", ")} req/s`);
      const middle = [...runs[mode]].sort((a, b) => a.result.requestsPerSec - b.result.requestsPerSec)[Math.floor(RUNS / 2)]!;
      const all = [warmUps[MODES.indexOf(mode)]!, ...runs[mode]].map((r) => r.result);
      const requests = all.reduce((a, r) => a + r.requests, 0);
      const non2xx = all.reduce((a, r) => a + r.non2xx, 0);
      const usecs = runs[mode].map((r) => r.scriptUsec ?? NaN).sort((a, b) => a - b);
      const sold = LARGE_STOCK - Number(await redis.get(saleKeys(large(mode)).stock));
      const accepted = requests - non2xx;
      const outcomes = await scrape(gatewayOf(mode).metricsUrl);
      const notReplicated = outcomes.value("fs_gateway_requests_total", { route: "purchase", sale: large(mode), outcome: "not_replicated" }) ?? 0;
      // Every admitted request is accepted, but for WAIT timeouts (their units are taken: the order may have been taken).
      if (non2xx !== notReplicated) problems.push(`${mode}: ${non2xx - notReplicated} admitted-row requests were refused`);
      // wrk drops the responses still in flight when it stops: at most one per connection and run.
      const inFlight = CONNECTIONS * (RUNS + 1);
      if (sold < accepted + notReplicated || sold > accepted + notReplicated + inFlight) {
        problems.push(`${mode}: units taken in Redis (${sold}) do not match accepted purchases (${accepted} + ${notReplicated} not replicated, + up to ${inFlight} in flight)`);
      }
      console.log(`check (${mode}): units taken in Redis ${sold}, accepted purchases seen by wrk ${accepted}, not replicated in time ${notReplicated}`);
      const ratios = runs[mode].map((r) => r.ratio);
      modes[mode] = { result: { ...middle.result, requests, non2xx }, scriptUsec: usecs[Math.floor(RUNS / 2)], sold, accepted, notReplicated, ratios, ratio: median(ratios) };
    }
    const everysec = modes.everysec;

    // The knobs as shipped (access log on with its refusal sample, per-IP limits on), one nginx
    // worker, every request from its own client address: each row against its ceiling in
    // interleaved pairs (ceiling, row, ceiling, row …) on the same gateway, the median of the
    // per-pair ratios and their spread, so the machine's noise hits both sides of a ratio alike.
    progress("shipped defaults: a gateway with knobs.conf as it is (one worker), a distinct client address per request");
    const shipped = await Gateway.start({ redisUrl: stack.redisServer.url(), knobs: { worker_processes: WORKERS }, benchListen: true });
    const shippedLarge = "bench-large-shipped";
    await controlPlane.createSale({ id: shippedLarge, stock: LARGE_STOCK, limits: WIDE_LIMITS });
    for (const id of [shippedLarge, soldOut.id]) await waitForSale(shipped, id);
    const shippedCeiling = `http://127.0.0.1:${shipped.benchPort}`;
    const xffEnv = { ...wrkEnv, BENCH_XFF: "1" };
    const shippedPaired = pairsOn(shipped);
    const shippedSide = (url: string, usesShoppers = false): Side => ({ url, args: script, env: xffEnv, usesShoppers });
    const shippedRows: PairedRow[] = [];
    await redis.config("SET", "appendfsync", "always"); // the shipped durability mode
    shippedRows.push(shippedPaired("turned away (sold out) vs return 200", shippedSide(`${shippedCeiling}/ceiling/return-200`), shippedSide(`${shipped.url}/api/sales/${soldOut.id}/purchase`)));
    shippedRows.push(shippedPaired("admitted, drain stopped, vs one Redis INCR", shippedSide(`${shippedCeiling}/ceiling/redis-incr`), shippedSide(`${shipped.url}/api/sales/${shippedLarge}/purchase`, true)));
    const drain = stack.startWorker();
    shippedRows.push(shippedPaired("admitted, drain running, vs one Redis INCR", shippedSide(`${shippedCeiling}/ceiling/redis-incr`), shippedSide(`${shipped.url}/api/sales/${shippedLarge}/purchase`, true)));
    await drain.stop();
    await shipped.stop();
    for (const r of shippedRows.slice(1)) {
      if (r.rowNon2xx > 0) problems.push(`shipped: ${r.rowNon2xx} of ${r.rowRequests} admitted-row requests were refused (${r.label})`);
    }

    const ceilings = [
      { row: "ceiling: return 200", ...return200 },
      { row: "ceiling: one Redis INCR (everysec)", ...incrEverysec },
      { row: "ceiling: one Redis INCR (always)", ...incrAlways },
    ];
    const rows = [
      { row: "purchase turned away (sold out)", rps: turnedAway.rowRps, p50: turnedAway.rowP50Ms, p99: turnedAway.rowP99Ms, non2xx: turnedAway.rowNon2xx, ratio: turnedAway.ratio, spread: spreadPct(turnedAway.ratios, turnedAway.ratio) },
      { row: "queue poll (waiting room, with ticket)", rps: queuePoll.rowRps, p50: queuePoll.rowP50Ms, p99: queuePoll.rowP99Ms, non2xx: queuePoll.rowNon2xx, ratio: queuePoll.ratio, spread: spreadPct(queuePoll.ratios, queuePoll.ratio) },
      ...MODES.map((mode) => {
        const m = modes[mode];
        return { row: `purchase admitted, ${MODE_LABELS[mode]}`, rps: m.result.requestsPerSec, p50: m.result.p50Ms, p99: m.result.p99Ms, non2xx: m.result.non2xx, ratio: m.ratio, spread: spreadPct(m.ratios, m.ratio) };
      }),
    ];
    console.log("");
    console.log("| ceiling | req/s (median of runs) | p50 ms | p99 ms |");
    console.log("|---|---:|---:|---:|");
    for (const c of ceilings) console.log(`| ${c.row} | ${c.requestsPerSec.toFixed(0)} | ${c.p50Ms.toFixed(2)} | ${c.p99Ms.toFixed(2)} |`);
    console.log("");
    console.log(`| row | req/s | p50 ms | p99 ms | non-2xx | ratio to its ceiling (median of ${RUNS} interleaved pairs) | spread |`);
    console.log("|---|---:|---:|---:|---:|---:|---:|");
    for (const r of rows) {
      console.log(`| ${r.row} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.non2xx} | ${r.ratio.toFixed(2)} | ${spreadText(r.spread)} |`);
    }
    console.log("(turned away and poll against return 200; admitted rows against one INCR with their own fsync policy, the replica mode against everysec; target ≥ 0.8)");
    console.log("");
    console.log("| durability mode | admitted req/s | vs everysec | p50 ms | p99 ms | not replicated in time | Redis µs per purchase script |");
    console.log("|---|---:|---:|---:|---:|---:|---:|");
    for (const mode of MODES) {
      const m = modes[mode];
      const vs = m.result.requestsPerSec / everysec.result.requestsPerSec;
      console.log(`| ${MODE_LABELS[mode]} | ${m.result.requestsPerSec.toFixed(0)} | ${vs.toFixed(2)} | ${m.result.p50Ms.toFixed(2)} | ${m.result.p99Ms.toFixed(2)} | ${m.notReplicated} | ${m.scriptUsec ?? "?"} |`);
    }
    console.log("");
    console.log("With the knobs as shipped (access log on, per-IP limits on, appendfsync always), one nginx worker,");
    console.log(`a distinct client address per request; ${RUNS} interleaved pairs of ${DURATION} s (ceiling, row):`);
    console.log("| row | row req/s | ceiling req/s | ratio (median of pairs) | spread | row p99 ms | nginx CPU µs per request, row / ceiling | ratio by CPU | spread |");
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of shippedRows) {
      console.log(`| ${r.label} | ${r.rowRps.toFixed(0)} | ${r.ceilingRps.toFixed(0)} | ${r.ratio.toFixed(2)} | ${spreadText(r.spreadPct)} | ${r.rowP99Ms.toFixed(2)} | ${r.rowCpuUs.toFixed(1)} / ${r.ceilingCpuUs.toFixed(1)} | ${r.cpuRatio.toFixed(2)} | ${spreadText(r.cpuSpreadPct)} |`);
    }
    console.log("(ratio by CPU: the ceiling's nginx CPU per request over the row's, which wrk and Redis sharing the cores disturb less; it is the gateway's own cost, and for the admitted rows Redis' time per script is apart, in the table above)");
    console.log("(targets: turned away ≥ 0.8 × return 200, admitted ≥ 0.8 × one Redis round trip)");
    console.log("");
    writeResults("gateway", {
      nginxWorkers: WORKERS,
      wrk: { threads: THREADS, connections: CONNECTIONS, durationSec: DURATION, runs: RUNS },
      ceilings,
      rows,
      labPairs: { turnedAway, queuePoll },
      modes: Object.fromEntries(
        MODES.map((mode) => [mode, {
          label: MODE_LABELS[mode],
          runsRequestsPerSec: runs[mode].map((r) => r.result.requestsPerSec),
          requestsPerSec: modes[mode].result.requestsPerSec,
          p50Ms: modes[mode].result.p50Ms,
          p99Ms: modes[mode].result.p99Ms,
          relativeToEverysec: modes[mode].result.requestsPerSec / everysec.result.requestsPerSec,
          unitsTakenInRedis: modes[mode].sold,
          acceptedSeenByWrk: modes[mode].accepted,
          notReplicatedInTime: modes[mode].notReplicated,
          redisScriptUsecPerCall: modes[mode].scriptUsec,
        }]),
      ),
      shipped: shippedRows,
      problems,
    });
    reportProblems(problems);
  } finally {
    await waitingGateway?.stop();
    await replicaServer?.destroy();
    await stack.stop();
  }
}

runBenchInScratch("fs-bench-", main);
