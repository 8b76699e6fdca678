import { waitSeconds } from "../src/admin-ui/login-throttle";

const opts = { maxFailures: 3, windowMs: 60_000 };

describe("waitSeconds", () => {
  it("lets an address try until its failures in the window reach the most allowed", () => {
    expect(waitSeconds(0, 0, opts)).toBe(0);
    expect(waitSeconds(2, 50_000, opts)).toBe(0);
  });

  it("then holds it back until the oldest of them leaves the window, at least a second", () => {
    expect(waitSeconds(3, 20_000, opts)).toBe(40);
    expect(waitSeconds(3, 59_500, opts)).toBe(1);
    expect(waitSeconds(3, 60_000, opts)).toBe(1);
  });
});
