/**
 * Fault injection, for the crash tests only. FS_WORKER_FAULT makes the worker SIGKILL itself
 * during its first batch, to prove that a crash between insert and acknowledgement neither
 * loses nor duplicates an order, or SIGSTOP itself (a frozen host) until the test sends SIGCONT:
 *   kill-mid-batch     after the INSERT statement, before COMMIT (Postgres rolls it back)
 *   kill-after-commit  after COMMIT, before the Redis acknowledgement (entries are redelivered)
 *   stop-mid-batch     after the INSERT statement, before COMMIT: the open transaction holds
 *                      its rows and its sales' rows until Postgres ends the idle session
 * Unset in every real deployment.
 */
export type FaultPoint = "mid-batch" | "after-commit";

export interface Fault {
  point: FaultPoint;
  signal: "SIGKILL" | "SIGSTOP";
}

const FAULTS: { [value: string]: Fault } = {
  "kill-mid-batch": { point: "mid-batch", signal: "SIGKILL" },
  "kill-after-commit": { point: "after-commit", signal: "SIGKILL" },
  "stop-mid-batch": { point: "mid-batch", signal: "SIGSTOP" },
};

/** The configured fault, undefined when none, or an error message for a bad value. */
export function parseFault(value: string | undefined): { fault: Fault | undefined } | { error: string } {
  if (value === undefined || value === "") return { fault: undefined };
  const fault = FAULTS[value];
  if (fault === undefined) return { error: `FS_WORKER_FAULT: unknown fault "${value}" (${Object.keys(FAULTS).join(", ")})` };
  return { fault };
}

let injected = false;

/** Signals the process without any cleanup the first time `point` is the configured one (a stopped worker goes on past it). */
export function crashIfAt(configured: Fault | undefined, point: FaultPoint, log: (msg: string) => void): void {
  if (configured?.point !== point || injected) return;
  injected = true;
  log(`fault injection: ${configured.signal} at ${point}`);
  process.kill(process.pid, configured.signal);
}
