import { constantTimeEquals, judgeClaims, readHs256, verifyHs256 } from "../src/jwt";
import { nodeJwtPlatform } from "./support/node-jwt-platform";
import { signToken, b64url } from "../../tests/support/tokens";

const SECRET = "test-secret-test-secret-test-secret-0123456789";
const platform = nodeJwtPlatform(SECRET);
const now = Math.floor(Date.now() / 1000);

test("a good token gives its sub", () => {
  expect(verifyHs256(signToken("alice", { secret: SECRET }), now, platform)).toEqual({ userId: "alice" });
});

test.each([
  ["empty", "", "malformed"],
  ["one part", "abc", "malformed"],
  ["empty first part", ".a.b", "malformed"],
  ["empty signature", "a.b.", "malformed"],
  ["four parts", "a.b.c.d", "malformed"],
  ["over 2 KB", "a".repeat(2049), "malformed"],
  ["header not base64url", "@@.b.c", "malformed"],
] as const)("%s → %s", (_n, token, failure) => {
  expect(verifyHs256(token, now, platform)).toEqual({ failure });
});

test.each([
  ["alg none", { alg: "none" }, "bad_alg"],
  ["alg HS512", { alg: "HS512" }, "bad_alg"],
  ["alg lower case", { alg: "hs256" }, "bad_alg"],
  ["no alg", { typ: "JWT" }, "bad_alg"],
] as const)("%s → %s", (_n, header, failure) => {
  expect(verifyHs256(signToken("u", { secret: SECRET, header }), now, platform)).toEqual({ failure });
});

test("the header part remembered as HS256 lets no other header through, and another HS256 header is read", () => {
  const good = signToken("alice", { secret: SECRET });
  expect(verifyHs256(good, now, platform)).toEqual({ userId: "alice" });
  expect(verifyHs256(signToken("u", { secret: SECRET, header: { alg: "none" } }), now, platform)).toEqual({ failure: "bad_alg" });
  expect(verifyHs256(signToken("u", { secret: SECRET, header: { alg: "HS256", kid: "k2" } }), now, platform)).toEqual({ userId: "u" });
  expect(verifyHs256(signToken("u", { secret: SECRET, header: { alg: "HS512" } }), now, platform)).toEqual({ failure: "bad_alg" });
  expect(verifyHs256(good, now, platform)).toEqual({ userId: "alice" });
  const [, p, sig] = good.split(".");
  expect(verifyHs256(`${b64url(JSON.stringify({ alg: "none" }))}.${p}.${sig}`, now, platform)).toEqual({ failure: "bad_alg" });
});

test("another secret → bad_signature", () => {
  expect(verifyHs256(signToken("u", { secret: "x".repeat(40) }), now, platform)).toEqual({ failure: "bad_signature" });
});

test("a token with its payload swapped → bad_signature", () => {
  const [h, , s] = signToken("alice", { secret: SECRET }).split(".");
  const forged = `${h}.${b64url(JSON.stringify({ sub: "mallory", exp: now + 600 }))}.${s}`;
  expect(verifyHs256(forged, now, platform)).toEqual({ failure: "bad_signature" });
});

test.each([
  // Inputs where Node and LuaJIT differ (TSTL.md): 0 and "" are truthy in Lua, strings are bytes.
  ["exp 0", { sub: "u", exp: 0 }, "expired"],
  ["exp now", { sub: "u", exp: now }, "expired"],
  ["exp as text", { sub: "u", exp: String(now + 60) }, "bad_claims"],
  ["no exp", { sub: "u" }, "bad_claims"],
  ["sub empty", { sub: "", exp: now + 60 }, "bad_claims"],
  ["sub 0", { sub: 0, exp: now + 60 }, "bad_claims"],
  ["sub é (two bytes)", { sub: "é", exp: now + 60 }, "bad_claims"],
  ["sub 129 bytes", { sub: "a".repeat(129), exp: now + 60 }, "bad_claims"],
] as const)("%s → %s", (_n, claims, failure) => {
  expect(verifyHs256(signToken("u", { secret: SECRET, claims }), now, platform)).toEqual({ failure });
});

test("exp far in the future (2^53) is fine", () => {
  const token = signToken("u", { secret: SECRET, claims: { sub: "u", exp: 2 ** 53 } });
  expect(verifyHs256(token, now, platform)).toEqual({ userId: "u" });
});

test("constantTimeEquals", () => {
  expect(constantTimeEquals("abc", "abc")).toBe(true);
  expect(constantTimeEquals("abc", "abd")).toBe(false);
  expect(constantTimeEquals("abc", "ab")).toBe(false);
  expect(constantTimeEquals("", "")).toBe(true);
});

test.each([
  ["nbf in the past", { nbf: now - 10 }, { userId: "u" }],
  ["nbf within the leeway", { nbf: now + 20 }, { userId: "u" }],
  ["nbf ahead of the leeway", { nbf: now + 31 }, { failure: "not_yet_valid" }],
  ["nbf not a number", { nbf: "soon" }, { failure: "bad_claims" }],
] as const)("%s", (_n, extra, result) => {
  const token = signToken("u", { secret: SECRET, claims: { sub: "u", exp: now + 600, ...extra } });
  expect(verifyHs256(token, now, platform)).toEqual(result);
});

test("a token that lives longer than the bound is refused, whatever its exp", () => {
  for (const exp of [now + 86401, 1e300]) {
    const token = signToken("u", { secret: SECRET, claims: { sub: "u", exp } });
    expect(verifyHs256(token, now, platform, 86400)).toEqual({ failure: "lives_too_long" });
  }
  expect(verifyHs256(signToken("u", { secret: SECRET, claims: { sub: "u", exp: now + 86400 } }), now, platform, 86400)).toEqual({ userId: "u" });
});

test("claims read once are judged at each time they are used: a kept token still expires and starts on time", () => {
  const claims = readHs256(signToken("u", { secret: SECRET, claims: { sub: "u", exp: now + 60, nbf: now + 40 } }), platform);
  expect(claims).toEqual({ userId: "u", exp: now + 60, nbf: now + 40 });
  if (typeof claims === "string") return;
  expect(judgeClaims(claims, now)).toBe("not_yet_valid");
  expect(judgeClaims(claims, now + 10)).toBeUndefined();
  expect(judgeClaims(claims, now + 60)).toBe("expired");
  expect(judgeClaims(claims, now - 10, 60)).toBe("lives_too_long");
  expect(readHs256(signToken("u", { secret: "x".repeat(40) }), platform)).toBe("bad_signature");
});
