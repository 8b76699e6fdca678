/** What every benchmark of `make bench` does alike: progress lines, its results file, its verdict. */
import { mkdirSync, writeFileSync } from "node:fs";
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

export function runBench(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
