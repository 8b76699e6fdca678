/**
 * One run per tick across control-plane instances, through Redis: a tick is claimed with a
 * token and a short lease (redis-scripts/claim-job-tick.lua), renewed while the run lasts
 * (redis-scripts/renew-job-lease.lua) and released by its owner only
 * (redis-scripts/release-job-lease.lua). A claim that failed is released too: one that timed
 * out during a stall still runs when Redis goes on, and would hold the job for a lease on
 * behalf of a run that never started.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { RedisScript, type Redis } from "@flash-sale/node-common";
import { jobKeys } from "@flash-sale/contract/keys";

// Two levels up from both src/jobs (ts-jest) and build/jobs (node).
const SCRIPT_DIR = path.resolve(__dirname, "../../redis-scripts");
const CLAIM = RedisScript.load(path.join(SCRIPT_DIR, "claim-job-tick.lua"));
const RENEW = RedisScript.load(path.join(SCRIPT_DIR, "renew-job-lease.lua"));
const RELEASE = RedisScript.load(path.join(SCRIPT_DIR, "release-job-lease.lua"));

export type Claim =
  | { kind: "claimed"; token: string }
  /** The tick already ran (or runs) on some instance. */
  | { kind: "taken" }
  /** An earlier tick still runs on another instance. */
  | { kind: "busy" };

export class JobLock {
  constructor(
    private readonly redis: Redis,
    /** Names this instance in the tokens, for whoever reads the lease in Redis. */
    private readonly instance: string,
  ) {}

  async claim(job: string, tickMs: number, leaseMs: number): Promise<Claim> {
    const keys = jobKeys(job);
    const token = `${this.instance}:${randomUUID()}`;
    let reply: unknown;
    try {
      reply = await CLAIM.run(this.redis, [keys.lease, keys.lastTick], [token, tickMs, leaseMs]);
    } catch (err) {
      // Sent on the same connection after the claim, so Redis runs it right after a late claim.
      this.release(job, token).catch(() => undefined);
      throw err;
    }
    if (reply === 1) return { kind: "claimed", token };
    if (reply === 0) return { kind: "taken" };
    if (reply === -1) return { kind: "busy" };
    throw new Error(`claim-job-tick.lua answered ${JSON.stringify(reply)}`);
  }

  /** Holds the lease leaseMs from now; false when it had expired and was no longer ours. */
  async renew(job: string, token: string, leaseMs: number): Promise<boolean> {
    return (await RENEW.run(this.redis, [jobKeys(job).lease], [token, leaseMs])) === 1;
  }

  /** False when the lease had expired and was no longer ours. */
  async release(job: string, token: string): Promise<boolean> {
    return (await RELEASE.run(this.redis, [jobKeys(job).lease], [token])) === 1;
  }
}
