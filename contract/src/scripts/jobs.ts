/** Scheduled jobs' ticks and leases (contract/redis-scripts/jobs/). */
import { codeName, declareScript } from "./script";

const CLAIM_CODES = { claimed: 1, ran: 0, running: -1 } as const;
const LEASE_CODES = { held: 1, not_held: 0 } as const;

function leaseReply(reply: unknown): "held" | "not_held" | undefined {
  return typeof reply === "number" ? codeName(LEASE_CODES, reply) : undefined;
}

/** Claims one tick: claimed, ran (this tick or a later one ran or runs elsewhere), running (an earlier one still runs elsewhere). */
export const CLAIM_JOB_TICK = declareScript({
  file: "jobs/claim-job-tick",
  keys: ["lease", "lastTick"],
  args: ["token", "tick", "leaseMs"],
  codes: CLAIM_CODES,
  decode: (reply: unknown) => (typeof reply === "number" ? codeName(CLAIM_CODES, reply) : undefined),
});

/** Extends the lease while the run lasts, only for its holder: held (renewed) or not_held. */
export const RENEW_JOB_LEASE = declareScript({
  file: "jobs/renew-job-lease",
  keys: ["lease"],
  args: ["token", "leaseMs"],
  codes: LEASE_CODES,
  decode: leaseReply,
});

/** Releases the lease, only by its holder: held (released) or not_held. */
export const RELEASE_JOB_LEASE = declareScript({
  file: "jobs/release-job-lease",
  keys: ["lease"],
  args: ["token"],
  codes: LEASE_CODES,
  decode: leaseReply,
});
