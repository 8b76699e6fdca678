import { LoginThrottle } from "../src/admin-ui/login-throttle";

function throttle(maxAddresses = 100) {
  const clock = { ms: 1_000_000 };
  return { clock, t: new LoginThrottle({ maxFailures: 3, windowMs: 60_000, maxAddresses, now: () => clock.ms }) };
}

describe("LoginThrottle", () => {
  it("holds an address back from its 3rd failure until the oldest one leaves the window", () => {
    const { clock, t } = throttle();
    t.recordFailure("a");
    clock.ms += 10_000;
    t.recordFailure("a");
    clock.ms += 10_000;
    expect(t.retryAfterSeconds("a")).toBe(0);
    t.recordFailure("a");
    expect(t.retryAfterSeconds("a")).toBe(40);
    expect(t.retryAfterSeconds("b")).toBe(0);
    clock.ms += 39_500;
    expect(t.retryAfterSeconds("a")).toBe(1);
    clock.ms += 500;
    expect(t.retryAfterSeconds("a")).toBe(0);
  });

  it("forgets an address's failures after a right token", () => {
    const { t } = throttle();
    t.recordFailure("a");
    t.recordFailure("a");
    t.recordSuccess("a");
    t.recordFailure("a");
    t.recordFailure("a");
    expect(t.retryAfterSeconds("a")).toBe(0);
  });

  it("tracks at most maxAddresses, forgetting the one seen least recently", () => {
    const { t } = throttle(2);
    for (const address of ["a", "b", "a", "c"]) for (let i = 0; i < 3; i++) t.recordFailure(address);
    expect([t.retryAfterSeconds("a") > 0, t.retryAfterSeconds("b") > 0, t.retryAfterSeconds("c") > 0]).toEqual([true, false, true]);
  });
});
