/** What every benchmark of `make bench` does alike: progress lines, its results file, its verdict. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export function progress(text: string): void {
  console.log(`[bench] ${new Date().toISOString().slice(11, 19)} ${text}`);
}

/** Writes bench/results/<name>.json. */
export function writeResults(name: string, results: object): void {
  mkdirSync(path.join(__dirname, "results"), { recursive: true });
  writeFileSync(path.join(__dirname, "results", `${name}.json`), JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2) + "\n");
  progress(`wrote bench/results/${name}.json`);
}

/** A run whose counts did not add up is no measurement: say why and exit non-zero. */
export function reportProblems(problems: string[]): void {
  if (problems.length === 0) return;
  console.error(`[bench] INVALID RUN: ${problems.join("; ")}`);
  process.exitCode = 1;
}

/** The middle value (the upper one of an even count). */
export function median(xs: number[]): number {
  return [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
}

/** How far the farthest of `xs` lies from `mid`, in percent of it. */
export function spreadPct(xs: number[], mid: number): number {
  return Math.max(...xs.map((x) => Math.abs(x / mid - 1))) * 100;
}

/** `±N %`, flagged when wider than ±10 %: a ratio that spread is not to be trusted. */
export function spreadText(pct: number): string {
  return `±${pct.toFixed(0)} %${pct > 10 ? ", wider than ±10 %" : ""}`;
}

export function runBench(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

/** runBench with a scratch folder for `main` (its shoppers' token files), removed however it ends. */
export function runBenchInScratch(prefix: string, main: (dir: string) => Promise<void>): void {
  runBench(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    try {
      await main(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
