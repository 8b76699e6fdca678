/** Runs wrk and reads its report: throughput, latency percentiles, non-2xx and socket errors. */
import { execFile, execFileSync } from "node:child_process";

export interface WrkResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  /** connect + read + write + timeout errors. */
  socketErrors: number;
}

export interface WrkRun {
  url: string;
  threads: number;
  connections: number;
  seconds: number;
  /** Extra arguments, e.g. ["-s", script]. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (m === null) throw new Error(`cannot read wrk latency '${text}'`);
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
}

export function parseWrkReport(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /\s50%\s+(\S+)/.exec(out);
  const p99 = /\s99%\s+(\S+)/.exec(out);
  const total = /(\d+) requests in/.exec(out);
  if (rps === null || p50 === null || p99 === null || total === null) throw new Error(`cannot read wrk output:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requestsPerSec: Number(rps[1]),
    p50Ms: toMs(p50[1]!),
    p99Ms: toMs(p99[1]!),
    requests: Number(total[1]),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    socketErrors: sockErr === null ? 0 : sockErr.slice(1).reduce((a, b) => a + Number(b), 0),
  };
}

function argv(run: WrkRun): string[] {
  return ["-t", String(run.threads), "-c", String(run.connections), "-d", `${run.seconds}s`, "--latency", ...(run.args ?? []), run.url];
}

/** Runs wrk to the end, blocking (benchmarks). */
export function wrkSync(run: WrkRun): WrkResult {
  return parseWrkReport(execFileSync("wrk", argv(run), { encoding: "utf8", env: { ...process.env, ...run.env } }));
}

/** Runs wrk without blocking the event loop, so a test can act while it runs. */
export function wrkAsync(run: WrkRun): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    execFile("wrk", argv(run), { encoding: "utf8", env: { ...process.env, ...run.env } }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`wrk failed: ${err.message}\n${stderr}`));
      else resolve(parseWrkReport(stdout));
    });
  });
}
