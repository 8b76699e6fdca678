/**
 * Retries an operation with exponential backoff, so a Postgres or Redis outage delays the
 * batch in hand instead of losing or crashing it. Gives up only when the worker is stopping.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@flash-sale/node-common";

export interface RetryOptions {
  /** Names the operation in the log line, e.g. "postgres insert". */
  what: string;
  logger: Logger;
  maxDelayMs: number;
  /** Aborted when the worker stops: the wait ends and no further attempt is made. */
  signal: AbortSignal;
}

export type Retried<T> = { ok: true; value: T } | { ok: false; error: string };

const FIRST_DELAY_MS = 100;

export async function withRetry<T>(op: () => Promise<T>, opts: RetryOptions): Promise<Retried<T>> {
  let delayMs = Math.min(FIRST_DELAY_MS, opts.maxDelayMs);
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await op();
      if (attempt > 1) opts.logger.info({ what: opts.what, attempts: attempt }, `${opts.what} succeeded after ${attempt} attempts`);
      return { ok: true, value };
    } catch (err) {
      const error = describeError(err);
      if (opts.signal.aborted) return { ok: false, error };
      opts.logger.warn(
        { what: opts.what, attempt, retryInMs: delayMs, error },
        `${opts.what} failed (${error}); retry ${attempt} in ${delayMs} ms`,
      );
      try {
        await sleep(delayMs, undefined, { signal: opts.signal });
      } catch {
        return { ok: false, error };
      }
      delayMs = Math.min(delayMs * 2, opts.maxDelayMs);
    }
  }
}

/** A one-line reason; connection errors may be AggregateErrors with an empty message. */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.message === "") {
    return err.errors.map(describeError).join("; ");
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return err.message !== "" ? err.message : typeof code === "string" ? code : err.name;
  }
  return String(err);
}
