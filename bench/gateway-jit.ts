/**
 * What LuaJIT makes of the purchase path on the real nginx (not in `make bench`; run it to see
 * what stays compiled). For each row, a purchase turned away (sold-out sale) and a purchase
 * admitted (distinct shoppers, valid JWTs), a gateway with FS_JIT_LOG (jit.v in each worker,
 * phases/init_worker.ts) and then one with FS_JIT_PROFILE (jit.p), each under wrk for
 * BENCH_DURATION seconds (default 3), knobs as shipped, one nginx worker. Prints per row the
 * traces compiled and aborted, the aborts by reason and place, most frequent first, and the
 * share of the profile's samples (every millisecond) in each VM state: interpreted, compiled,
 * C code (nginx, FFI calls), garbage collector, JIT compiler. The raw logs stay in
 * BENCH_JIT_KEEP (a folder) when set.
 *
 * Run: `npx tsx bench/gateway-jit.ts` with .env.local loaded.
 */
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Gateway, waitForSale } from "../tests/support/gateway";
import { TestStack } from "../tests/support/test-stack";
import { purchase } from "../tests/support/http";
import { signToken } from "../tests/support/tokens";
import { wrkSync } from "../tests/support/wrk";
import { writeShopperTokens } from "./shopper-tokens";
import { progress, runBench, writeResults } from "./bench-run";

const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const CONNECTIONS = 64;
const WIDE_LIMITS = { userRatePerSecond: 1_000_000, userBurst: 1_000_000, admitPerSecond: 1_000_000 };
const SHIPPED = { worker_processes: "1" };

/** jit.p's VM states: its lines `NN%  <state>` (the states' own level, not indented). */
function readProfile(text: string): Record<string, number> {
  const states: Record<string, number> = {};
  for (const m of text.matchAll(/^(\d+)%\s+(Interpreted|Compiled|C code|Garbage Collector|JIT Compiler)\s*$/gm)) states[m[2]!] = Number(m[1]);
  return states;
}

/** jit.v's lines: `[TRACE   3 file.lua:12 loop]` compiled, `[TRACE --- file.lua:12 -- reason at place]` aborted. */
function readTraceLog(text: string): { compiled: number; aborted: number; reasons: [string, number][] } {
  let compiled = 0;
  let aborted = 0;
  const reasons = new Map<string, number>();
  for (const line of text.split("\n")) {
    const abort = /^\[TRACE --- (?:\(\d+\/\d+\) )?(\S+) -- (.*)\]$/.exec(line);
    if (abort) {
      aborted++;
      const key = `${abort[2]} (trace from ${abort[1]})`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    } else if (/^\[TRACE +\d+ /.test(line)) compiled++;
  }
  return { compiled, aborted, reasons: [...reasons].sort((x, y) => y[1] - x[1]) };
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "fs-bench-jit-"));
  chmodSync(tmp, 0o755);
  const rows = [];
  let stack: TestStack | undefined;
  try {
    stack = await TestStack.start({ name: "bench_jit", knobs: SHIPPED, persistentRedis: true });
    const soldOut = await stack.controlPlane.createSale({ id: "jit-sold-out", stock: 1, limits: WIDE_LIMITS });
    const large = await stack.controlPlane.createSale({ id: "jit-large", stock: 50_000_000, limits: WIDE_LIMITS });
    await waitForSale(stack.gateway, soldOut.id);
    await purchase(stack.gateway.url, soldOut.id, signToken("first-and-only"));
    const tokens = writeShopperTokens(tmp, "shopper", 2 * (30_000 * DURATION + CONNECTIONS));
    /** One gateway with `envName` set to a log path under a new folder, under wrk for DURATION; answers the logs' text. */
    const runWith = async (envName: string, saleId: string): Promise<string> => {
      const logDir = mkdtempSync(path.join(tmp, "jit-"));
      chmodSync(logDir, 0o777); // nginx's workers, not root, write the logs
      // The gateway's nginx takes its environment from this process's (tests/support/gateway.ts).
      process.env[envName] = path.join(logDir, "jit");
      const g = await Gateway.start({ redisUrl: stack!.redisServer.url(), knobs: SHIPPED });
      delete process.env[envName];
      try {
        await waitForSale(g, saleId);
        const r = wrkSync({
          url: `${g.url}/api/sales/${saleId}/purchase`,
          threads: 1,
          connections: CONNECTIONS,
          seconds: DURATION,
          args: ["-s", path.join(__dirname, "wrk/purchase.lua")],
          env: { BENCH_TOKENS: tokens, BENCH_THREADS: "1", BENCH_XFF: "1", BENCH_TOKEN_OFFSET: String(offset) },
        });
        offset += r.requests + CONNECTIONS;
        progress(`  ${envName}: ${r.requests} requests, ${r.non2xx} not 2xx`);
      } finally {
        await g.stop();
      }
      if (process.env.BENCH_JIT_KEEP) cpSync(logDir, path.join(process.env.BENCH_JIT_KEEP, `${saleId}-${envName}`), { recursive: true });
      return readdirSync(logDir).map((f) => readFileSync(path.join(logDir, f), "utf8")).join("\n");
    };
    let offset = 0;
    for (const [label, saleId] of [["turned away (sold out)", soldOut.id], ["admitted", large.id]] as const) {
      progress(`row: ${label}`);
      const log = readTraceLog(await runWith("FS_JIT_LOG", saleId));
      const vmStates = readProfile(await runWith("FS_JIT_PROFILE", saleId));
      rows.push({ label, ...log, vmStatesPct: vmStates });
      console.log(`\n${label}: ${log.compiled} traces compiled, ${log.aborted} aborted; samples by VM state (another run, profiled): ${JSON.stringify(vmStates)}`);
      for (const [reason, n] of log.reasons.slice(0, 15)) console.log(`  ${String(n).padStart(5)}  ${reason}`);
    }
    writeResults("gateway-jit", { durationSec: DURATION, rows });
  } finally {
    await stack?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

runBench(main);
