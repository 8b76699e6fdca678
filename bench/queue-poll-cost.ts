/**
 * Queue poll cost (make bench): a waiting room's poll (GET …/queue?ticket=…, distinct shoppers,
 * each polling in turn with their own token and ticket) against a purchase turned away (a
 * sold-out sale, distinct shoppers), in interleaved pairs on one gateway with one nginx worker:
 * the median of the per-pair ratios and their spread, of requests per second and of the nginx
 * worker's CPU time per request (bench/nginx-cpu.ts: steadier than req/s on a busy machine). The
 * goal (issue "A stock-aware waiting room"): a poll costs about what a turned-away purchase costs.
 *
 * BENCH_DURATION (seconds per run, default 5), BENCH_RUNS (pairs, default 5), BENCH_CONNECTIONS
 * (default 64), BENCH_MEMO (the knob signature_memo_size; 0 shows the cost without the memo). Run: `npx tsx bench/queue-poll-cost.ts` with .env.local loaded.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LOAD_TEST_KNOBS, waitForSale } from "../tests/support/gateway";
import { TestStack } from "../tests/support/test-stack";
import { signToken } from "../tests/support/tokens";
import { purchase } from "../tests/support/http";
import { wrkSync, type WrkResult } from "../tests/support/wrk";
import { progress, reportProblems, runBench, writeResults } from "./bench-run";
import { prepareQueuePoll } from "./queue-poll";
import { writeShopperTokens } from "./shopper-tokens";
import { nginxWorkersCpuNs } from "./nginx-cpu";

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const WIDE_LIMITS = { userRatePerSecond: 1_000_000, userBurst: 1_000_000, admitPerSecond: 1_000_000 };

async function main(): Promise<void> {
  const stack = await TestStack.start({ name: "bench_queue_poll", knobs: { ...LOAD_TEST_KNOBS, worker_processes: "1", access_log: "off", ...(process.env.BENCH_MEMO !== undefined ? { signature_memo_size: process.env.BENCH_MEMO } : {}) } });
  const tmp = mkdtempSync(path.join(os.tmpdir(), "fs-bench-poll-"));
  const problems: string[] = [];
  try {
    const { controlPlane, gateway } = stack;
    const soldOut = await controlPlane.createSale({ id: "bench-sold-out", stock: 1, limits: WIDE_LIMITS });
    await waitForSale(gateway, soldOut.id);
    await purchase(gateway.url, soldOut.id, signToken("first-and-only"));
    const poll = await prepareQueuePoll(stack.redis, controlPlane, gateway, tmp, WIDE_LIMITS);
    const tokens = writeShopperTokens(tmp, "shopper", 40_000);
    const turnedAway = { url: `${gateway.url}/api/sales/${soldOut.id}/purchase`, args: ["-s", path.join(__dirname, "wrk/purchase.lua")], env: { BENCH_TOKENS: tokens } };
    const run = (r: { url: string; args: string[]; env: NodeJS.ProcessEnv }, seconds: number): WrkResult & { cpuUsPerRequest: number } => {
      const before = nginxWorkersCpuNs(gateway);
      const result = wrkSync({ url: r.url, threads: 1, connections: CONNECTIONS, seconds, args: r.args, env: r.env });
      return { ...result, cpuUsPerRequest: (nginxWorkersCpuNs(gateway) - before) / 1000 / result.requests };
    };
    const pollRow = { url: poll.url, args: poll.script, env: poll.env };
    progress(`warm-up, then ${RUNS} pairs (turned away, poll) of ${DURATION} s, ${CONNECTIONS} connections, one nginx worker`);
    run(turnedAway, 1);
    run(pollRow, 1);
    const pairs = Array.from({ length: RUNS }, () => ({ away: run(turnedAway, DURATION), poll: run(pollRow, DURATION) }));
    for (const p of pairs) {
      if (p.poll.non2xx > 0) problems.push(`${p.poll.non2xx} polls were refused`);
      if (p.away.non2xx !== p.away.requests) problems.push("a turned-away purchase was accepted");
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const summary = (label: string, ratios: number[]) => {
      const ratio = median(ratios);
      const spreadPct = Math.max(...ratios.map((r) => Math.abs(r / ratio - 1))) * 100;
      console.log(`${label}: ${ratio.toFixed(2)} (pairs: ${ratios.map((r) => r.toFixed(2)).join(", ")}; spread ±${spreadPct.toFixed(0)} %${spreadPct > 10 ? ", wider than ±10 %" : ""})`);
      return { ratios, ratio, spreadPct };
    };
    console.log("");
    console.log("| row | req/s (median) | p99 ms (median) | nginx CPU µs per request (median) |");
    console.log("|---|---:|---:|---:|");
    for (const [label, side] of [["purchase turned away (sold out)", "away"], ["queue poll (with ticket)", "poll"]] as const) {
      const rows = pairs.map((p) => p[side]);
      console.log(`| ${label} | ${median(rows.map((r) => r.requestsPerSec)).toFixed(0)} | ${median(rows.map((r) => r.p99Ms)).toFixed(2)} | ${median(rows.map((r) => r.cpuUsPerRequest)).toFixed(1)} |`);
    }
    const throughput = summary("poll req/s ÷ turned-away req/s", pairs.map((p) => p.poll.requestsPerSec / p.away.requestsPerSec));
    const cpu = summary("turned-away CPU ÷ poll CPU, per request", pairs.map((p) => p.away.cpuUsPerRequest / p.poll.cpuUsPerRequest));
    writeResults("queue-poll-cost", { pairs, throughput, cpu, problems });
    reportProblems(problems);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await stack.stop();
  }
}

runBench(main);
