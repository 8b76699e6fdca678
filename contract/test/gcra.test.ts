import { gcraDecide, gcraPolicy, retryAfterSeconds } from "../src/gcra";

test("a burst of `burst + 1` passes at once, the next is refused with the time to wait", () => {
  const policy = gcraPolicy(2, 3); // 500 ms apart, 3 extra at once
  let tat: number | undefined;
  const now = 1_000_000;
  for (let i = 0; i < 4; i++) {
    const d = gcraDecide(tat, now, policy);
    expect(d.allowed).toBe(true);
    tat = d.tatMs;
  }
  const refused = gcraDecide(tat, now, policy);
  expect(refused).toEqual({ allowed: false, tatMs: tat, retryAfterMs: 500 });
  expect(gcraDecide(tat, now + 500, policy).allowed).toBe(true);
});

test("the sustained rate passes indefinitely", () => {
  const policy = gcraPolicy(10, 0);
  let tat: number | undefined;
  for (let i = 0; i < 100; i++) {
    const d = gcraDecide(tat, 5000 + i * 100, policy);
    expect(d.allowed).toBe(true);
    tat = d.tatMs;
  }
});

test("a stale TAT in the past counts as now", () => {
  expect(gcraDecide(10, 1_000_000, gcraPolicy(1, 0))).toEqual({ allowed: true, tatMs: 1_001_000, retryAfterMs: 0 });
});

test("Retry-After is whole seconds, at least 1", () => {
  expect(retryAfterSeconds(0)).toBe(1);
  expect(retryAfterSeconds(1)).toBe(1);
  expect(retryAfterSeconds(1001)).toBe(2);
  // A rate set absurdly low: capped, never an overflowed header.
  for (const ms of [3_600_001, 1e300, Infinity, NaN]) expect(retryAfterSeconds(ms)).toBe(3600);
});
