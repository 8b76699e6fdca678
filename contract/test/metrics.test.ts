import { REDIS_BUCKETS, REQUEST_BUCKETS, REQUESTS, SALE_PURCHASE_BUCKETS, bucketIndex, bucketLabel, bucketOfTime, bucketsByMillisecond, clockSkewSeconds, metricKey } from "../src/metrics";

test("an observation falls in the first bucket whose bound it does not exceed, else +Inf", () => {
  const bounds = [0.001, 0.01, 0.1];
  expect(bucketIndex(bounds, 0)).toBe(0);
  expect(bucketIndex(bounds, 0.001)).toBe(0);
  expect(bucketIndex(bounds, 0.0011)).toBe(1);
  expect(bucketIndex(bounds, 0.1)).toBe(2);
  expect(bucketIndex(bounds, 7)).toBe(3);
  expect(bucketLabel(bounds, 3)).toBe("+Inf");
});

test("the lookup by millisecond answers as bucketIndex for clock differences of whole milliseconds, past the last bound, below 0", () => {
  for (const bounds of [REQUEST_BUCKETS, REDIS_BUCKETS, SALE_PURCHASE_BUCKETS, [0.001, 0.01, 0.1]]) {
    const byMs = bucketsByMillisecond(bounds);
    const last = bounds[bounds.length - 1]!;
    // Times as the gateway takes them: differences of two epoch readings, off by a float's error.
    for (let ms = 0; ms <= last * 1000 + 3; ms++) {
      const t = 1_800_000_000.123 + ms / 1000 - 1_800_000_000.123;
      expect([ms, bucketOfTime(byMs, t)]).toEqual([ms, bucketIndex(bounds, ms / 1000)]);
    }
    expect(bucketOfTime(byMs, last * 10)).toBe(bounds.length);
    expect(bucketOfTime(byMs, -0.002)).toBe(0);
  }
});

test("bucket bounds increase and print as Prometheus reads them", () => {
  for (const bounds of [REQUEST_BUCKETS, REDIS_BUCKETS, SALE_PURCHASE_BUCKETS]) {
    for (let i = 1; i < bounds.length; i++) expect(bounds[i]!).toBeGreaterThan(bounds[i - 1]!);
    // Lua prints numbers with 14 significant digits: the bounds must survive that.
    for (let i = 0; i < bounds.length; i++) expect(Number(bucketLabel(bounds, i).slice(0, 15))).toBe(bounds[i]);
  }
});

test("dict keys: family code, then the labels, separated by |", () => {
  expect(metricKey(REQUESTS, "purchase", "spring|accepted")).toBe("req|purchase|spring|accepted");
});

test("clock skew: the gateway's clock at the round trip's middle minus Redis' TIME", () => {
  // Sent at 100.000, answered at 100.010: Redis' 100.005 is no skew.
  expect(clockSkewSeconds(100, 100.01, 100, 5000)).toBeCloseTo(0, 9);
  // The gateway 2.5 s ahead of Redis, or 0.25 s behind it.
  expect(clockSkewSeconds(1_800_000_002.5, 1_800_000_002.5, 1_800_000_000, 0)).toBeCloseTo(2.5, 6);
  expect(clockSkewSeconds(1_800_000_000, 1_800_000_000.002, 1_800_000_000, 251_000)).toBeCloseTo(-0.25, 6);
});
