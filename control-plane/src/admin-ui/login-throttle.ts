/**
 * Wrong admin tokens per client address: after `maxFailures` within `windowMs` the address may
 * not try again until the oldest of them is older than the window. Kept in Postgres
 * (admin_login_failures) and judged by its clock, so every control-plane instance counts the
 * same failures: N instances allow no more guesses than one.
 */
import type { Pool } from "@flash-sale/node-common";

export interface LoginThrottleOptions {
  maxFailures: number;
  windowMs: number;
}

export const LOGIN_THROTTLE_DEFAULTS: LoginThrottleOptions = { maxFailures: 10, windowMs: 60_000 };

/**
 * Seconds an address must wait, from its last failures within the window (at most maxFailures
 * of them counted) and how long ago the oldest of those was; 0 when it may try now.
 */
export function waitSeconds(recentFailures: number, oldestAgeMs: number, opts: LoginThrottleOptions): number {
  if (recentFailures < opts.maxFailures) return 0;
  return Math.max(1, Math.ceil((opts.windowMs - oldestAgeMs) / 1000));
}

export class LoginThrottle {
  constructor(
    private readonly pool: Pool,
    private readonly opts: LoginThrottleOptions = LOGIN_THROTTLE_DEFAULTS,
  ) {}

  /** Seconds the address must wait before trying again; 0 when it may try now. */
  async retryAfterSeconds(address: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number; oldest_age_ms: number | null }>(
      `SELECT count(*)::int AS n, (EXTRACT(EPOCH FROM now() - min(failed_at)) * 1000)::float8 AS oldest_age_ms
         FROM (SELECT failed_at FROM admin_login_failures
                WHERE address = $1 AND failed_at > now() - make_interval(secs => $2)
                ORDER BY failed_at DESC LIMIT $3) recent`,
      [address, this.opts.windowMs / 1000, this.opts.maxFailures],
    );
    const row = rows[0]!;
    return waitSeconds(row.n, row.oldest_age_ms ?? 0, this.opts);
  }

  async recordFailure(address: string): Promise<void> {
    await this.pool.query("DELETE FROM admin_login_failures WHERE failed_at <= now() - make_interval(secs => $1)", [this.opts.windowMs / 1000]);
    await this.pool.query("INSERT INTO admin_login_failures (address) VALUES ($1)", [address]);
  }

  /** A correct token clears the address's count. */
  async recordSuccess(address: string): Promise<void> {
    await this.pool.query("DELETE FROM admin_login_failures WHERE address = $1", [address]);
  }
}
