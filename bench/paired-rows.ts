/**
 * A row measured against its ceiling in interleaved pairs (ceiling, row, ceiling, row …) on one
 * gateway: the per-pair ratios of req/s and of the nginx workers' CPU per request, their
 * medians and spreads, as the gateway and token benches report them.
 */
import type { Gateway } from "../tests/support/gateway";
import type { WrkResult } from "../tests/support/wrk";
import { median, progress, spreadPct } from "./bench-run";
import { nginxWorkersCpuNs } from "./nginx-cpu";

/** One side's run: wrk's figures and the nginx workers' CPU time per request (µs). */
export type MeasuredSide = WrkResult & { cpuUs: number };

export interface PairFigures {
  ceilingRps: number;
  rowRps: number;
  rowP50Ms: number;
  rowP99Ms: number;
  rowNon2xx: number;
  rowRequests: number;
  ratios: number[];
  ratio: number;
  spreadPct: number;
  /** The nginx worker's CPU time per request (bench/nginx-cpu.ts), medians over the pairs. */
  ceilingCpuUs: number;
  rowCpuUs: number;
  /** Ceiling's CPU per request over the row's, per pair: what the ratio is where cores are not shared. */
  cpuRatios: number[];
  cpuRatio: number;
  cpuSpreadPct: number;
}

/** Runs `run` (one wrk run against `gateway`) and adds the CPU its nginx workers spent per request. */
export function measureSide(gateway: Gateway, run: () => WrkResult): MeasuredSide {
  const cpuBefore = nginxWorkersCpuNs(gateway);
  const r = run();
  return { ...r, cpuUs: (nginxWorkersCpuNs(gateway) - cpuBefore) / 1000 / r.requests };
}

/** The pairs' figures; the per-pair ratios go to the progress lines. */
export function pairFigures(pairs: { ceiling: MeasuredSide; row: MeasuredSide }[]): PairFigures {
  const ratios = pairs.map((p) => p.row.requestsPerSec / p.ceiling.requestsPerSec);
  const cpuRatios = pairs.map((p) => p.ceiling.cpuUs / p.row.cpuUs);
  const ratio = median(ratios);
  const cpuRatio = median(cpuRatios);
  progress(`    ratios: ${ratios.map((r) => r.toFixed(2)).join(", ")}; by CPU per request: ${cpuRatios.map((r) => r.toFixed(2)).join(", ")}`);
  return {
    ceilingRps: median(pairs.map((p) => p.ceiling.requestsPerSec)),
    rowRps: median(pairs.map((p) => p.row.requestsPerSec)),
    rowP50Ms: median(pairs.map((p) => p.row.p50Ms)),
    rowP99Ms: median(pairs.map((p) => p.row.p99Ms)),
    rowNon2xx: pairs.reduce((a, p) => a + p.row.non2xx, 0),
    rowRequests: pairs.reduce((a, p) => a + p.row.requests, 0),
    ratios,
    ratio,
    spreadPct: spreadPct(ratios, ratio),
    ceilingCpuUs: median(pairs.map((p) => p.ceiling.cpuUs)),
    rowCpuUs: median(pairs.map((p) => p.row.cpuUs)),
    cpuRatios,
    cpuRatio,
    cpuSpreadPct: spreadPct(cpuRatios, cpuRatio),
  };
}
