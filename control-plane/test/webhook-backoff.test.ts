import { retryDelayMs } from "../src/webhooks/backoff";

const backoff = { baseMs: 1000, maxMs: 60_000 };

test("doubles per failure, from base, with up to half taken off at random", () => {
  expect([1, 2, 3, 4].map((n) => retryDelayMs(n, backoff, 0.9999999))).toEqual([1000, 2000, 4000, 8000]);
  expect([1, 2, 3, 4].map((n) => retryDelayMs(n, backoff, 0))).toEqual([500, 1000, 2000, 4000]);
  expect(retryDelayMs(3, backoff, 0.5)).toBe(3000);
});

test("capped at max however many failures, and never Infinity or NaN", () => {
  for (const n of [7, 8, 50, 1000, 1e9]) {
    expect(retryDelayMs(n, backoff, 0.9999999)).toBe(60_000);
    expect(retryDelayMs(n, backoff, 0)).toBe(30_000);
  }
});

test("jitter spreads deliveries that failed together", () => {
  const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(5, backoff)));
  expect(delays.size).toBeGreaterThan(40);
  for (const d of delays) {
    expect(d).toBeGreaterThanOrEqual(8000);
    expect(d).toBeLessThanOrEqual(16_000);
  }
});
