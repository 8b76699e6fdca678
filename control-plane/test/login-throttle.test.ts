import { LOGIN_THROTTLE_DEFAULTS, waitSeconds } from "../src/auth/login-throttle";

const opts = { ...LOGIN_THROTTLE_DEFAULTS, baseWaitMs: 1000, maxWaitMs: 60_000 };

describe("waitSeconds", () => {
  it("lets a try through until the failures reach the threshold", () => {
    expect(waitSeconds(0, 3, 0, opts)).toBe(0);
    expect(waitSeconds(2, 3, 0, opts)).toBe(0);
  });

  it("then doubles the wait with each further failure, counted from the latest", () => {
    expect(waitSeconds(3, 3, 0, opts)).toBe(1);
    expect(waitSeconds(4, 3, 0, opts)).toBe(2);
    expect(waitSeconds(6, 3, 0, opts)).toBe(8);
    expect(waitSeconds(6, 3, 5_000, opts)).toBe(3);
    expect(waitSeconds(6, 3, 8_000, opts)).toBe(0);
  });

  it("up to the cap", () => {
    expect(waitSeconds(30, 3, 0, opts)).toBe(60);
    expect(waitSeconds(300, 3, 59_500, opts)).toBe(1);
  });
});
