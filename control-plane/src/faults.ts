/**
 * Fault injection, for the crash tests only (tests/control-plane-crash.test.ts).
 * FS_CONTROL_PLANE_FAULT makes the control plane SIGKILL itself at one point, to prove that a
 * control plane dying there leaves Redis behind Postgres (never ahead) and loses nothing:
 *   kill-after-take:update      a lower stock taken out of Redis, not yet committed to Postgres
 *   kill-after-commit:<action>  a change committed to Postgres, nothing of it applied to Redis
 *   kill-mid-apply:<action>     the sale's own keys applied, its config record not yet published
 *   kill-mid-expiry             an expiry run expired orders in Redis, before the run went on
 * where <action> is update, publish, pause, resume or end. Unset in every real deployment.
 */
export type FaultPoint = "after-take" | "after-commit" | "mid-apply" | "mid-expiry";

export interface Fault {
  point: FaultPoint;
  /** The admin action it applies to (after-commit, mid-apply). */
  action?: string;
}

const ACTIONS = ["update", "publish", "pause", "resume", "end"];
const POINTS: { [name: string]: FaultPoint } = {
  "kill-after-take": "after-take",
  "kill-after-commit": "after-commit",
  "kill-mid-apply": "mid-apply",
  "kill-mid-expiry": "mid-expiry",
};

/** The configured fault, undefined when none, or an error message for a bad value. */
export function parseFault(value: string | undefined): { fault: Fault | undefined } | { error: string } {
  if (value === undefined || value === "") return { fault: undefined };
  const [name = "", action] = value.split(":");
  const point = POINTS[name];
  const bad = (why: string) => ({ error: `FS_CONTROL_PLANE_FAULT: ${why} "${value}" (kill-after-take:update, kill-after-commit:<action>, kill-mid-apply:<action>, kill-mid-expiry)` });
  if (point === undefined) return bad("unknown fault");
  if ((point === "mid-expiry") !== (action === undefined)) return bad("wrong action for");
  if (action !== undefined && !ACTIONS.includes(action)) return bad("unknown action in");
  return { fault: { point, action } };
}

/** Kills the process without any cleanup when `point` (for `action`) is the configured fault. */
export function crashIfAt(fault: Fault | undefined, point: FaultPoint, action?: string): void {
  if (fault === undefined || fault.point !== point || fault.action !== action) return;
  // Written synchronously (stderr is a pipe or a file): the test reads it after the kill.
  process.stderr.write(`fault injection: SIGKILL at ${point}${action === undefined ? "" : ` of ${action}`}\n`);
  process.kill(process.pid, "SIGKILL");
}
