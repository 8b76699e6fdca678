/**
 * One run per tick across control-plane instances, through Redis: a tick is claimed with a
 * token and a short lease (redis-scripts/jobs/claim-job-tick.lua), renewed while the run lasts
 * (jobs/renew-job-lease.lua) and released by its owner only (jobs/release-job-lease.lua). A claim that failed is released too: one that timed
 * out during a stall still runs when Redis goes on, and would hold the job for a lease on
 * behalf of a run that never started.
 */
import { randomUUID } from "node:crypto";
import { RedisScript, type Redis } from "@flash-sale/node-common";
import { jobKeys } from "@flash-sale/contract/keys";
import { CLAIM_JOB_TICK, RELEASE_JOB_LEASE, RENEW_JOB_LEASE } from "@flash-sale/contract/scripts/jobs";
import { unhandledReply } from "@flash-sale/contract/scripts/script";

const CLAIM = RedisScript.load(CLAIM_JOB_TICK);
const RENEW = RedisScript.load(RENEW_JOB_LEASE);
const RELEASE = RedisScript.load(RELEASE_JOB_LEASE);

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
    const token = `${this.instance}:${randomUUID()}`;
    let reply: Awaited<ReturnType<typeof CLAIM.run>>;
    try {
      reply = await CLAIM.run(this.redis, jobKeys(job), { token, tick: tickMs, leaseMs });
    } catch (err) {
      // Sent on the same connection after the claim, so Redis runs it right after a late claim.
      this.release(job, token).catch(() => undefined);
      throw err;
    }
    switch (reply) {
      case "claimed":
        return { kind: "claimed", token };
      case "ran":
        return { kind: "taken" };
      case "running":
        return { kind: "busy" };
      default:
        return unhandledReply(reply);
    }
  }

  /** Holds the lease leaseMs from now; false when it had expired and was no longer ours. */
  async renew(job: string, token: string, leaseMs: number): Promise<boolean> {
    return (await RENEW.run(this.redis, jobKeys(job), { token, leaseMs })) === "held";
  }

  /** False when the lease had expired and was no longer ours. */
  async release(job: string, token: string): Promise<boolean> {
    return (await RELEASE.run(this.redis, jobKeys(job), { token })) === "held";
  }
}
