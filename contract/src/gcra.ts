/**
 * GCRA (generic cell rate algorithm): one number per key, the theoretical arrival time
 * (TAT). Pure arithmetic; the caller keeps TATs in a store (a shared dict in nginx).
 */

export interface GcraPolicy {
  /** Milliseconds between requests at the sustained rate (T). */
  emissionIntervalMs: number;
  /** How far ahead of now the TAT may run: burst × T (τ). */
  toleranceMs: number;
}

export function gcraPolicy(ratePerSecond: number, burst: number): GcraPolicy {
  const t = 1000 / ratePerSecond;
  return { emissionIntervalMs: t, toleranceMs: t * burst };
}

export interface GcraDecision {
  allowed: boolean;
  /** The TAT to store when allowed. */
  tatMs: number;
  /** When refused: milliseconds until a request would be allowed. */
  retryAfterMs: number;
}

/** Decides one request at nowMs given the stored TAT (undefined when none is stored). */
export function gcraDecide(storedTatMs: number | undefined, nowMs: number, policy: GcraPolicy): GcraDecision {
  const tat = storedTatMs === undefined || storedTatMs < nowMs ? nowMs : storedTatMs;
  const newTat = tat + policy.emissionIntervalMs;
  const allowAt = newTat - policy.emissionIntervalMs - policy.toleranceMs;
  if (allowAt > nowMs) {
    return { allowed: false, tatMs: tat, retryAfterMs: allowAt - nowMs };
  }
  return { allowed: true, tatMs: newTat, retryAfterMs: 0 };
}

/** The longest wait a Retry-After tells: a rate set absurdly low must not print an overflow. */
export const MAX_RETRY_AFTER_SECONDS = 3600;

/** Whole seconds for a Retry-After header: from 1 to MAX_RETRY_AFTER_SECONDS. */
export function retryAfterSeconds(retryAfterMs: number): number {
  if (!(retryAfterMs < MAX_RETRY_AFTER_SECONDS * 1000)) return MAX_RETRY_AFTER_SECONDS;
  const s = Math.ceil(retryAfterMs / 1000);
  return s < 1 ? 1 : s;
}
