/**
 * Wrong admin tokens per client address: after `maxFailures` within `windowMs` the address
 * may not try again until the oldest of them is older than the window. Kept in this process:
 * each control-plane instance counts on its own, so N instances allow N times as many guesses,
 * still far too few for a token of FS_ADMIN_TOKEN's length.
 */

export interface LoginThrottleOptions {
  maxFailures: number;
  windowMs: number;
  /** Addresses tracked at once; the one seen least recently is forgotten first. */
  maxAddresses: number;
  now?: () => number;
}

export const LOGIN_THROTTLE_DEFAULTS: LoginThrottleOptions = { maxFailures: 10, windowMs: 60_000, maxAddresses: 10_000 };

export class LoginThrottle {
  /** Address → times of its recent failures, oldest first; Map order is least recently seen first. */
  private readonly failures = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(private readonly opts: LoginThrottleOptions = LOGIN_THROTTLE_DEFAULTS) {
    this.now = opts.now ?? Date.now;
  }

  /** Seconds the address must wait before trying again; 0 when it may try now. */
  retryAfterSeconds(address: string): number {
    const recent = this.recent(address);
    if (recent.length < this.opts.maxFailures) return 0;
    return Math.max(1, Math.ceil((recent[0]! + this.opts.windowMs - this.now()) / 1000));
  }

  recordFailure(address: string): void {
    const recent = this.recent(address);
    recent.push(this.now());
    this.failures.delete(address);
    this.failures.set(address, recent.slice(-this.opts.maxFailures));
    if (this.failures.size > this.opts.maxAddresses) this.failures.delete(this.failures.keys().next().value!);
  }

  /** A correct token clears the address's count. */
  recordSuccess(address: string): void {
    this.failures.delete(address);
  }

  private recent(address: string): number[] {
    const since = this.now() - this.opts.windowMs;
    return (this.failures.get(address) ?? []).filter((at) => at > since);
  }
}
