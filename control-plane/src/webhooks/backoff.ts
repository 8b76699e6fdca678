/**
 * When a failed delivery is tried again: exponential backoff with jitter. The n-th failure
 * waits base·2^(n−1), capped at max, of which a random half is taken off ("equal jitter"),
 * so that deliveries failing together at an endpoint that came back do not retry together.
 */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** `failures` ≥ 1: the failures of the delivery so far, this one included. `random` in [0, 1). */
export function retryDelayMs(failures: number, { baseMs, maxMs }: Backoff, random: number = Math.random()): number {
  // 2^52 already passes any cap; a larger exponent would only make Infinity.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(failures, 1) - 1, 52));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
