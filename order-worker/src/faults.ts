/**
 * Fault injection, for the crash tests only. FS_WORKER_FAULT makes the worker SIGKILL itself
 * during its first batch, to prove that a crash between insert and acknowledgement neither
 * loses nor duplicates an order:
 *   kill-mid-batch     after the INSERT statement, before COMMIT (Postgres rolls it back)
 *   kill-after-commit  after COMMIT, before the Redis acknowledgement (entries are redelivered)
 * Unset in every real deployment.
 */
export type FaultPoint = "mid-batch" | "after-commit";

const FAULTS: { [value: string]: FaultPoint } = {
  "kill-mid-batch": "mid-batch",
  "kill-after-commit": "after-commit",
};

/** The configured fault point, undefined when none, or an error message for a bad value. */
export function parseFault(value: string | undefined): { point: FaultPoint | undefined } | { error: string } {
  if (value === undefined || value === "") return { point: undefined };
  const point = FAULTS[value];
  if (point === undefined) return { error: `FS_WORKER_FAULT: unknown fault "${value}" (${Object.keys(FAULTS).join(", ")})` };
  return { point };
}

/** Kills the process without any cleanup when `point` is the configured one. */
export function crashIfAt(configured: FaultPoint | undefined, point: FaultPoint, log: (msg: string) => void): void {
  if (configured !== point) return;
  log(`fault injection: SIGKILL at ${point}`);
  process.kill(process.pid, "SIGKILL");
}
