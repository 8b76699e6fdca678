import { createHmac } from "node:crypto";
import { verifyHs256, type JwtPlatform } from "@flash-sale/contract/jwt";
import { signShopperToken } from "../src/auth/shopper-token";

const SECRET = "unit-test-secret-unit-test-secret-0123";

// The gateway's own checks, with node:crypto as the platform.
const node: JwtPlatform = {
  base64UrlDecode: (s) => (/^[A-Za-z0-9_-]*$/.test(s) ? Buffer.from(s, "base64url").toString("utf8") : undefined),
  signHs256: (data) => createHmac("sha256", SECRET).update(data).digest("base64url"),
  decodeJson: (s) => {
    try {
      return JSON.parse(s);
    } catch {
      return undefined;
    }
  },
};

describe("signShopperToken", () => {
  it("makes a token the gateway accepts until it expires", () => {
    const token = signShopperToken(SECRET, "alice", 60, 1_000);
    expect(verifyHs256(token, 1_059, node)).toEqual({ userId: "alice" });
    expect(verifyHs256(token, 1_060, node)).toEqual({ failure: "expired" });
  });

  it("refuses a user id the gateway would refuse, and a bad lifetime", () => {
    expect(() => signShopperToken(SECRET, "a b", 60)).toThrow(/user id/);
    expect(() => signShopperToken(SECRET, "alice", 0)).toThrow(/lifetime/);
    expect(() => signShopperToken(SECRET, "alice", Number.NaN)).toThrow(/lifetime/);
  });
});
