/**
 * Gateway benchmark (make bench): wrk against a real nginx running the compiled Lua, with its
 * ceilings measured in the same run on the same nginx build and worker count:
 *   - `return 200` from nginx itself            → ceiling of a purchase turned away
 *   - one Redis INCR through the gateway's pool → ceiling of a purchase admitted
 * Rows: purchase turned away (sold-out sale, distinct shoppers), a waiting room's queue poll
 * (distinct shoppers with their tickets: bench/queue-poll.ts) and purchase admitted (large
 * stock, distinct shoppers, valid JWTs). Prints progress and a table; writes
 * bench/results/gateway.json. Uses its own Redis and database, never the stack's.
 *
 * Each row is the median of BENCH_RUNS runs (default 3) after a one-second warm-up, since these
 * machines are shared and one run can be disturbed.
 *
 * BENCH_DURATION (seconds per run, default 5), BENCH_RUNS (default 3), BENCH_CONNECTIONS
 * (default 64), BENCH_THREADS (default 1), BENCH_NGINX_WORKERS (default 1). Run: make bench (or `npx tsx bench/gateway.ts` with .env.local loaded).
 */
import { mkdirSync, writeFileSync, rmSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { saleKeys } from "@flash-sale/gateway-lua/core/keys";
import { LOAD_TEST_KNOBS, waitForSale } from "../tests/support/gateway";
import { TestStack } from "../tests/support/test-stack";
import { purchase } from "../tests/support/http";
import { signToken } from "../tests/support/tokens";
import { wrkSync, type WrkResult } from "../tests/support/wrk";
import { prepareQueuePoll } from "./queue-poll";

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
  const median = [...runs].sort((a, b) => a.requestsPerSec - b.requestsPerSec)[Math.floor(RUNS / 2)]!;
  progress(`  runs: ${runs.map((r) => r.requestsPerSec.toFixed(0)).join(", ")} req/s`);
  const all = [warmUp, ...runs];
  return {
    ...median,
    requests: all.reduce((a, r) => a + r.requests, 0),
    non2xx: all.reduce((a, r) => a + r.non2xx, 0),
    socketErrors: all.reduce((a, r) => a + r.socketErrors, 0),
  };
}

function progress(text: string): void {
  console.log(`[bench] ${new Date().toISOString().slice(11, 19)} ${text}`);
}

function writeTokens(dir: string, prefix: string, count: number): string {
  const file = path.join(dir, `${prefix}.tokens`);
  const lines: string[] = [];
  // Same-width user ids give same-length tokens, which the wrk script slices by offset.
  for (let i = 0; i < count; i++) lines.push(signToken(`${prefix}-${String(i).padStart(9, "0")}`, { expiresInSec: 3600 }));
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

async function main(): Promise<void> {
  progress(`nginx workers ${WORKERS}, wrk ${THREADS} thread(s) × ${CONNECTIONS} connections, ${RUNS} runs × ${DURATION} s per row`);
  const stack = await TestStack.start({
    name: "bench_gateway",
    knobs: { ...LOAD_TEST_KNOBS, worker_processes: WORKERS, access_log: "off" },
    benchListen: true,
  });
  const { redis, controlPlane, gateway } = stack;
  const tmp = mkdtempSync(path.join(os.tmpdir(), "fs-bench-"));
  try {
    progress("preparing a sold-out sale and a large one, and shopper tokens");
    const soldOut = await controlPlane.createSale({ id: "bench-sold-out", stock: 1, limits: WIDE_LIMITS });
    const large = await controlPlane.createSale({ id: "bench-large", stock: 50_000_000, limits: WIDE_LIMITS });
    await waitForSale(gateway, soldOut.id);
    await waitForSale(gateway, large.id);
    await purchase(gateway.url, soldOut.id, signToken("first-and-only"));
    // Before the tokens are written: the control plane's idle connection would be closed by then.
    const poll = await prepareQueuePoll(redis, controlPlane, gateway, tmp, WIDE_LIMITS);
    // Enough distinct shoppers for every run of a row at 30,000 req/s, above what one Redis
    // round trip allows here; the admitted row's check below fails if they ran out.
    const shoppers = 30_000 * (DURATION * RUNS + 1);
    const tokens = writeTokens(tmp, "shopper", shoppers);
    const wrkEnv = { BENCH_TOKENS: tokens, BENCH_THREADS: String(THREADS) };
    const script = ["-s", path.join(BENCH_DIR, "wrk/purchase.lua")];

    // The ceilings get the same requests from the same wrk script, so the client's cost is
    // the same on both sides of each ratio.
    const ceilingUrl = `http://127.0.0.1:${gateway.benchPort}`;
    progress("ceiling 1: nginx `return 200`");
    const return200 = wrk(`${ceilingUrl}/ceiling/return-200`, script, wrkEnv);
    progress("ceiling 2: one Redis INCR through the gateway's pool");
    const redisIncr = wrk(`${ceilingUrl}/ceiling/redis-incr`, script, wrkEnv);

    progress(`purchase turned away (sold-out sale, ${shoppers} distinct shoppers)`);
    const turnedAway = wrk(`${gateway.url}/api/sales/${soldOut.id}/purchase`, script, wrkEnv);
    progress("queue poll (a waiting room's GET …/queue with each shopper's ticket)");
    const queuePoll = wrk(poll.url, poll.script, { ...poll.env, BENCH_THREADS: String(THREADS) });
    progress(`purchase admitted (large stock, ${shoppers} distinct shoppers)`);
    await redis.config("RESETSTAT");
    const admitted = wrk(`${gateway.url}/api/sales/${large.id}/purchase`, script, wrkEnv);
    const stats = /cmdstat_evalsha:calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/.exec(await redis.info("commandstats"));
    const scriptUsec = stats === null ? undefined : Number(stats[2]);

    const sold = 50_000_000 - Number(await redis.get(saleKeys(large.id).stock));
    const accepted = admitted.requests - admitted.non2xx;
    const rows = [
      { row: "ceiling: return 200", ...return200, ratio: 1 },
      { row: "ceiling: one Redis INCR", ...redisIncr, ratio: 1 },
      { row: "purchase turned away (sold out)", ...turnedAway, ratio: turnedAway.requestsPerSec / return200.requestsPerSec },
      { row: "queue poll (waiting room, with ticket)", ...queuePoll, ratio: queuePoll.requestsPerSec / return200.requestsPerSec },
      { row: "purchase admitted", ...admitted, ratio: admitted.requestsPerSec / redisIncr.requestsPerSec },
    ];
    console.log("");
    console.log("| row | req/s | p50 ms | p99 ms | non-2xx | ratio to ceiling |");
    console.log("|---|---:|---:|---:|---:|---:|");
    for (const r of rows) {
      console.log(`| ${r.row} | ${r.requestsPerSec.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.non2xx} | ${r.ratio.toFixed(2)} |`);
    }
    console.log("");
    // Checks that the rows measured what they claim: every admitted request bought a unit,
    // every turned-away request was refused.
    const problems: string[] = [];
    if (admitted.non2xx !== 0) problems.push(`${admitted.non2xx} admitted-row requests were not accepted`);
    // wrk drops the responses still in flight when it stops: at most one per connection and run.
    const inFlight = CONNECTIONS * (RUNS + 1);
    if (sold < accepted || sold > accepted + inFlight) {
      problems.push(`units taken in Redis (${sold}) do not match accepted purchases (${accepted}, + up to ${inFlight} in flight)`);
    }
    if (turnedAway.non2xx !== turnedAway.requests) problems.push("some turned-away-row requests were accepted");
    if (queuePoll.non2xx !== 0) problems.push(`${queuePoll.non2xx} queue polls were refused`);
    console.log(`check: units taken in Redis ${sold}, accepted purchases seen by wrk ${accepted}; target ratio ≥ 0.8`);
    console.log(`Redis time inside the purchase script: ${scriptUsec ?? "?"} µs per call`);
    mkdirSync(path.join(BENCH_DIR, "results"), { recursive: true });
    const result = {
      at: new Date().toISOString(),
      nginxWorkers: WORKERS,
      wrk: { threads: THREADS, connections: CONNECTIONS, durationSec: DURATION, runs: RUNS },
      rows,
      unitsTakenInRedis: sold,
      acceptedSeenByWrk: accepted,
      redisScriptUsecPerCall: scriptUsec,
      problems,
    };
    writeFileSync(path.join(BENCH_DIR, "results/gateway.json"), JSON.stringify(result, null, 2) + "\n");
    progress("wrote bench/results/gateway.json");
    if (problems.length > 0) {
      console.error(`[bench] INVALID RUN: ${problems.join("; ")}`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
