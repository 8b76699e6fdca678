/**
 * Queue poll cost (make bench): a waiting room's poll (GET …/queue?ticket=…, distinct shoppers,
 * each polling in turn with their own token and ticket) against two purchases turned away, by
 * distinct shoppers: one of a sold-out sale (refused before its token is read, the cheapest
 * refusal) and one of the waiting room's own sale without a pass (403 pass_required, after the
 * token, the shopper's rate and the body). Interleaved rounds on one gateway with one nginx
 * worker: the median of the per-round ratios and their spread, of requests per second and of the
 * nginx worker's CPU time per request (bench/nginx-cpu.ts: steadier than req/s on a busy machine).
 * The goal (issue "A stock-aware waiting room"): a poll costs about what a turned-away purchase costs.
 *
 * BENCH_DURATION (seconds per run, default 5), BENCH_RUNS (rounds, default 5), BENCH_CONNECTIONS
 * (default 64), BENCH_MEMO (the knob signature_memo_size; 0 shows the cost without the memo),
 * BENCH_SHIPPED=1: the knobs as shipped (knobs.conf: access log, per-IP limits) with one nginx
 * worker, each shopper from its own client address through the trusted proxy; else the lab knobs
 * (access log off, per-IP limits wide). Run: `npx tsx bench/queue-poll-cost.ts` with .env.local loaded.
 */
import path from "node:path";
import { LOAD_TEST_KNOBS, waitForSale } from "../tests/support/gateway";
import { TestStack } from "../tests/support/test-stack";
import { signToken } from "../tests/support/tokens";
import { purchase } from "../tests/support/http";
import { wrkSync, type WrkResult } from "../tests/support/wrk";
import { median, progress, reportProblems, runBenchInScratch, spreadPct, spreadText, writeResults } from "./bench-run";
import { prepareQueuePoll } from "./queue-poll";
import { writeShopperTokens } from "./shopper-tokens";
import { nginxWorkersCpuNs } from "./nginx-cpu";

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const SHIPPED = process.env.BENCH_SHIPPED === "1";
/** Per shopper: its own client address when the knobs are as shipped (per-IP limits on). */
const CLIENT_ENV = SHIPPED ? { BENCH_XFF: "1" } : {};
const WIDE_LIMITS = { userRatePerSecond: 1_000_000, userBurst: 1_000_000, admitPerSecond: 1_000_000 };

async function main(tmp: string): Promise<void> {
  const knobs = SHIPPED ? { worker_processes: "1" } : { ...LOAD_TEST_KNOBS, worker_processes: "1", access_log: "off" };
  if (process.env.BENCH_MEMO !== undefined) Object.assign(knobs, { signature_memo_size: process.env.BENCH_MEMO });
  const stack = await TestStack.start({ name: "bench_queue_poll", knobs });
  const problems: string[] = [];
  try {
    const { controlPlane, gateway } = stack;
    const soldOut = await controlPlane.createSale({ id: "bench-sold-out", stock: 1, limits: WIDE_LIMITS });
    await waitForSale(gateway, soldOut.id);
    await purchase(gateway.url, soldOut.id, signToken("first-and-only"));
    const poll = await prepareQueuePoll(stack.redis, controlPlane, gateway, tmp, WIDE_LIMITS);
    const tokens = writeShopperTokens(tmp, "shopper", 40_000);
    const purchaseScript = ["-s", path.join(__dirname, "wrk/purchase.lua")];
    const rows = {
      soldOut: { label: "purchase turned away: sold out (before the token is read)", url: `${gateway.url}/api/sales/${soldOut.id}/purchase`, args: purchaseScript, env: { BENCH_TOKENS: tokens, ...CLIENT_ENV } },
      noPass: { label: "purchase turned away: no pass (403 pass_required, the waiting room's sale)", url: poll.url.replace(/\/queue$/, "/purchase"), args: purchaseScript, env: { BENCH_TOKENS: tokens, ...CLIENT_ENV } },
      poll: { label: "queue poll (with ticket)", url: poll.url, args: poll.script, env: { ...poll.env, ...CLIENT_ENV } },
    };
    type Row = keyof typeof rows;
    const run = (row: Row, seconds: number): WrkResult & { cpuUsPerRequest: number } => {
      const r = rows[row];
      const before = nginxWorkersCpuNs(gateway);
      const result = wrkSync({ url: r.url, threads: 1, connections: CONNECTIONS, seconds, args: r.args, env: r.env });
      return { ...result, cpuUsPerRequest: (nginxWorkersCpuNs(gateway) - before) / 1000 / result.requests };
    };
    progress(`${SHIPPED ? "knobs as shipped, a client address per shopper" : "lab knobs"}; warm-up, then ${RUNS} rounds (sold out, no pass, poll) of ${DURATION} s each, ${CONNECTIONS} connections, one nginx worker`);
    for (const row of Object.keys(rows) as Row[]) run(row, 1);
    const rounds = Array.from({ length: RUNS }, () => ({ soldOut: run("soldOut", DURATION), noPass: run("noPass", DURATION), poll: run("poll", DURATION) }));
    for (const r of rounds) {
      if (r.poll.non2xx > 0) problems.push(`${r.poll.non2xx} polls were refused`);
      if (r.soldOut.non2xx !== r.soldOut.requests || r.noPass.non2xx !== r.noPass.requests) problems.push("a turned-away purchase was accepted");
    }
    const summary = (label: string, ratios: number[]) => {
      const ratio = median(ratios);
      const spread = spreadPct(ratios, ratio);
      console.log(`${label}: ${ratio.toFixed(2)} (rounds: ${ratios.map((r) => r.toFixed(2)).join(", ")}; spread ${spreadText(spread)})`);
      return { ratios, ratio, spreadPct: spread };
    };
    console.log("");
    console.log("| row | req/s (median) | p99 ms (median) | nginx CPU µs per request (median) |");
    console.log("|---|---:|---:|---:|");
    for (const row of Object.keys(rows) as Row[]) {
      const runs = rounds.map((r) => r[row]);
      console.log(`| ${rows[row].label} | ${median(runs.map((r) => r.requestsPerSec)).toFixed(0)} | ${median(runs.map((r) => r.p99Ms)).toFixed(2)} | ${median(runs.map((r) => r.cpuUsPerRequest)).toFixed(1)} |`);
    }
    const ratios = {
      soldOutCpu: summary("sold-out refusal CPU ÷ poll CPU, per request", rounds.map((r) => r.soldOut.cpuUsPerRequest / r.poll.cpuUsPerRequest)),
      soldOutThroughput: summary("poll req/s ÷ sold-out refusal req/s", rounds.map((r) => r.poll.requestsPerSec / r.soldOut.requestsPerSec)),
      noPassCpu: summary("no-pass refusal CPU ÷ poll CPU, per request", rounds.map((r) => r.noPass.cpuUsPerRequest / r.poll.cpuUsPerRequest)),
      noPassThroughput: summary("poll req/s ÷ no-pass refusal req/s", rounds.map((r) => r.poll.requestsPerSec / r.noPass.requestsPerSec)),
    };
    writeResults(SHIPPED ? "queue-poll-cost-shipped" : "queue-poll-cost", { shipped: SHIPPED, rounds, ratios, problems });
    reportProblems(problems);
  } finally {
    await stack.stop();
  }
}

runBenchInScratch("fs-bench-poll-", main);
