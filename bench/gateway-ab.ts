/**
 * A/B of two builds of the gateway (not in `make bench`; run it to put a figure on a change):
 * the compiled Lua of BENCH_AB_BASE (a git revision, default HEAD, built in a temporary
 * worktree) as A against this working tree's build (`npm run build --workspace gateway-lua`)
 * as B (built again first). Two gateways share one Redis (`appendfsync always`), both with the knobs as shipped and
 * one nginx worker, every request from its own client address; rows: a purchase turned away
 * (sold-out sale) and a purchase admitted (distinct shoppers, valid JWTs).
 *
 * Each round runs A then B, then B then A: on this machine the second run of a back-to-back
 * pair used less CPU per request (an A/A run of one build: 0.91 on the sold-out row), and
 * both orders in every round cancel that out. Per round: B's nginx CPU per request over A's
 * (`/proc/<pid>/schedstat`), the geometric mean of its two orders; printed with the median over
 * the rounds and its spread. Below 1 means B, the working tree, costs less.
 *
 * BENCH_AB_BASE (default HEAD), BENCH_AB_ROUNDS (default 5), BENCH_DURATION (seconds per run,
 * default 3), BENCH_CONNECTIONS (default 64). Run: `npx tsx bench/gateway-ab.ts` with
 * .env.local loaded.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Gateway, waitForSale } from "../tests/support/gateway";
import { TestStack } from "../tests/support/test-stack";
import { purchase } from "../tests/support/http";
import { signToken } from "../tests/support/tokens";
import { wrkSync } from "../tests/support/wrk";
import { nginxWorkersCpuNs } from "./nginx-cpu";
import { writeShopperTokens } from "./shopper-tokens";
import { median, progress, reportProblems, runBench, spreadPct, spreadText, writeResults } from "./bench-run";

const BASE = process.env.BENCH_AB_BASE ?? "HEAD";
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 5);
const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const REPO = path.resolve(__dirname, "..");
const WIDE_LIMITS = { userRatePerSecond: 1_000_000, userBurst: 1_000_000, admitPerSecond: 1_000_000 };
const SHIPPED = { worker_processes: "1" };

/** Builds the gateway's Lua at `rev` in a temporary worktree; answers its Lua directory and a cleanup. */
function buildAt(rev: string): { luaDir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "fs-ab-base-"));
  chmodSync(dir, 0o755); // nginx's workers, not root, read the Lua from it
  const remove = () => {
    execFileSync("git", ["-C", REPO, "worktree", "remove", "--force", dir], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  };
  execFileSync("git", ["-C", REPO, "worktree", "add", "--detach", dir, rev], { stdio: "ignore" });
  try {
    symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
    // Without npx's npm_* variables, which would point npm at this checkout instead.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_")));
    execFileSync("npm", ["run", "build", "--workspace", "gateway-lua"], { cwd: dir, env, stdio: "ignore" });
    if (!existsSync(path.join(dir, "gateway-lua/build/lua/phases/log.lua"))) throw new Error(`the gateway's build at ${rev} made no Lua`);
  } catch (err) {
    remove();
    throw err;
  }
  return { luaDir: path.join(dir, "gateway-lua/build/lua"), remove };
}

interface Run {
  rps: number;
  cpuUs: number;
  non2xx: number;
  requests: number;
}

async function main(): Promise<void> {
  const rev = execFileSync("git", ["-C", REPO, "rev-parse", "--short", BASE], { encoding: "utf8" }).trim();
  progress(`A: the gateway built at ${BASE} (${rev}); B: this working tree's build; ${ROUNDS} rounds of A,B,B,A × ${DURATION} s`);
  execFileSync("npm", ["run", "build", "--workspace", "gateway-lua"], { cwd: REPO, stdio: "ignore" });
  const base = buildAt(BASE);
  const tmp = mkdtempSync(path.join(os.tmpdir(), "fs-bench-ab-"));
  const gateways: Gateway[] = [];
  let stack: TestStack | undefined;
  try {
    stack = await TestStack.start({ name: "bench_ab", knobs: SHIPPED, persistentRedis: true, appendfsync: "always" });
    const { controlPlane, redis } = stack;
    await redis.config("SET", "auto-aof-rewrite-percentage", "0");
    const a = await Gateway.start({ redisUrl: stack.redisServer.url(), knobs: SHIPPED, luaDir: base.luaDir });
    gateways.push(a);
    const b = await Gateway.start({ redisUrl: stack.redisServer.url(), knobs: SHIPPED });
    gateways.push(b);
    const soldOut = await controlPlane.createSale({ id: "ab-sold-out", stock: 1, limits: WIDE_LIMITS });
    const large = await controlPlane.createSale({ id: "ab-large", stock: 50_000_000, limits: WIDE_LIMITS });
    for (const g of [a, b]) for (const id of [soldOut.id, large.id]) await waitForSale(g, id);
    await purchase(a.url, soldOut.id, signToken("first-and-only"));
    // Every admitted run of either side at up to 30,000 req/s gets shoppers never seen before.
    const tokens = writeShopperTokens(tmp, "shopper", 30_000 * DURATION * (4 * ROUNDS + 2) + CONNECTIONS * (4 * ROUNDS + 2));
    const env = { BENCH_TOKENS: tokens, BENCH_THREADS: "1", BENCH_XFF: "1" };
    const args = ["-s", path.join(__dirname, "wrk/purchase.lua")];
    let offset = 0;
    const run = (g: Gateway, saleId: string, admits: boolean): Run => {
      const cpuBefore = nginxWorkersCpuNs(g);
      const r = wrkSync({ url: `${g.url}/api/sales/${saleId}/purchase`, threads: 1, connections: CONNECTIONS, seconds: DURATION, args, env: { ...env, BENCH_TOKEN_OFFSET: String(offset) } });
      if (admits) offset += r.requests + CONNECTIONS;
      return { rps: r.requestsPerSec, cpuUs: (nginxWorkersCpuNs(g) - cpuBefore) / 1000 / r.requests, non2xx: r.non2xx, requests: r.requests };
    };
    const problems: string[] = [];
    const rows = [];
    for (const [label, saleId, admits] of [["turned away (sold out)", soldOut.id, false], ["admitted", large.id, true]] as const) {
      progress(`row: ${label}`);
      run(a, saleId, admits);
      run(b, saleId, admits);
      const rounds = Array.from({ length: ROUNDS }, () => {
        const ab = [run(a, saleId, admits), run(b, saleId, admits)] as const;
        const ba = [run(b, saleId, admits), run(a, saleId, admits)] as const;
        const ratio = Math.sqrt((ab[1].cpuUs / ab[0].cpuUs) * (ba[0].cpuUs / ba[1].cpuUs));
        progress(`  A ${ab[0].cpuUs.toFixed(1)}, ${ba[1].cpuUs.toFixed(1)} µs; B ${ab[1].cpuUs.toFixed(1)}, ${ba[0].cpuUs.toFixed(1)} µs per request → B/A ${ratio.toFixed(3)}`);
        return { a: [ab[0], ba[1]], b: [ab[1], ba[0]], ratio };
      });
      if (admits) {
        const refused = rounds.flatMap((r) => [...r.a, ...r.b]).reduce((n, r) => n + r.non2xx, 0);
        if (refused > 0) problems.push(`${refused} admitted-row requests were refused`);
      }
      const ratios = rounds.map((r) => r.ratio);
      const ratio = median(ratios);
      rows.push({
        label,
        aCpuUs: median(rounds.flatMap((r) => r.a.map((x) => x.cpuUs))),
        bCpuUs: median(rounds.flatMap((r) => r.b.map((x) => x.cpuUs))),
        aRps: median(rounds.flatMap((r) => r.a.map((x) => x.rps))),
        bRps: median(rounds.flatMap((r) => r.b.map((x) => x.rps))),
        ratios,
        ratio,
        spreadPct: spreadPct(ratios, ratio),
      });
    }
    console.log(`\nA = ${BASE} (${rev}), B = working tree; knobs as shipped, one nginx worker each, a client address per request`);
    console.log("| row | A µs/request | B µs/request | A req/s | B req/s | B/A by CPU (median of rounds) |");
    console.log("|---|---:|---:|---:|---:|---:|");
    for (const r of rows) {
      console.log(`| ${r.label} | ${r.aCpuUs.toFixed(1)} | ${r.bCpuUs.toFixed(1)} | ${r.aRps.toFixed(0)} | ${r.bRps.toFixed(0)} | ${r.ratio.toFixed(3)} (${spreadText(r.spreadPct)}) |`);
    }
    writeResults("gateway-ab", { base: BASE, baseRev: rev, rounds: ROUNDS, durationSec: DURATION, rows });
    reportProblems(problems);
  } finally {
    for (const g of gateways) await g.stop();
    await stack?.stop();
    rmSync(tmp, { recursive: true, force: true });
    base.remove();
  }
}

runBench(main);
