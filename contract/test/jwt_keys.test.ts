/** Tokens of the shop's identity provider: RS256, ES256 and EdDSA checked with a JWKS (core/jwk.ts). */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { ecdsaSignatureToDer, jwkToDer, readKeySet, type KeySet } from "../src/jwk";
import { verifyToken, type TokenExpectations } from "../src/jwt";
import { nodeJwtPlatform, nodeKeyPlatform } from "./support/node-jwt-platform";
import { b64url } from "../../tests/support/tokens";

const SECRET = "test-secret-test-secret-test-secret-0123456789";
const platform = nodeJwtPlatform(SECRET);
const now = Math.floor(Date.now() / 1000);
const expect0: TokenExpectations = { issuer: "https://idp.example", audience: "flash-sale" };

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ed = generateKeyPairSync("ed25519");
const otherRsa = generateKeyPairSync("rsa", { modulusLength: 2048 });

function jwk(key: KeyObject, kid: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...key.export({ format: "jwk" }), ...(kid === undefined ? {} : { kid }), ...extra };
}

function keySet(keys: unknown[]): KeySet {
  const read = readKeySet({ keys }, nodeKeyPlatform);
  if (typeof read === "string") throw new Error(read);
  return read.set;
}

const set = keySet([jwk(rsa.publicKey, "r1"), jwk(ec.publicKey, "e1"), jwk(ed.publicKey, "d1")]);

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: "alice", exp: now + 600, iss: expect0.issuer, aud: expect0.audience, ...extra };
}

/** A JWS signed the way a provider signs: ES256 as raw r || s. */
function signJws(alg: string, key: KeyObject | undefined, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const signed = `${b64url(JSON.stringify({ alg, ...header }))}.${b64url(JSON.stringify(payload))}`;
  if (key === undefined) return `${signed}.AAAA`;
  const data = Buffer.from(signed);
  const sig =
    alg === "ES256" ? sign("sha256", data, { key, dsaEncoding: "ieee-p1363" }) : sign(alg === "EdDSA" ? null : "sha256", data, key);
  return `${signed}.${sig.toString("base64url")}`;
}

function verify(token: string, keys: KeySet | null = set, leeway = 0): unknown {
  return verifyToken(token, now, platform, 86400, keys ?? undefined, expect0, leeway);
}

test.each([
  ["RS256", rsa.privateKey, "r1"],
  ["ES256", ec.privateKey, "e1"],
  ["EdDSA", ed.privateKey, "d1"],
] as const)("%s with its key's kid gives its sub", (alg, key, kid) => {
  expect(verify(signJws(alg, key, { kid }, claims()))).toEqual({ userId: "alice" });
});

test("HS256 keeps working beside the key set, with the secret only", () => {
  const signed = `${b64url(JSON.stringify({ alg: "HS256" }))}.${b64url(JSON.stringify({ sub: "bob", exp: now + 60 }))}`;
  expect(verify(`${signed}.${createHmac("sha256", SECRET).update(signed).digest("base64url")}`)).toEqual({ userId: "bob" });
});

test("a public key never serves as an HMAC secret (alg confusion)", () => {
  const pem = rsa.publicKey.export({ format: "pem", type: "spki" });
  for (const kid of ["r1", undefined]) {
    const signed = `${b64url(JSON.stringify({ alg: "HS256", ...(kid ? { kid } : {}) }))}.${b64url(JSON.stringify(claims()))}`;
    expect(verify(`${signed}.${createHmac("sha256", pem).update(signed).digest("base64url")}`)).toEqual({ failure: "bad_signature" });
  }
});

test.each([
  ["alg none", signJws("none", undefined, { kid: "r1" }, claims()), "bad_alg"],
  ["RS256 under the EC key's kid", signJws("RS256", rsa.privateKey, { kid: "e1" }, claims()), "bad_alg"],
  ["ES256 under the RSA key's kid", signJws("ES256", ec.privateKey, { kid: "r1" }, claims()), "bad_alg"],
  ["RS384", signJws("RS256", rsa.privateKey, { kid: "r1", alg: "RS384" }, claims()), "bad_alg"],
  ["unknown kid", signJws("RS256", otherRsa.privateKey, { kid: "gone" }, claims()), "unknown_key"],
  ["no kid among several keys", signJws("RS256", rsa.privateKey, {}, claims()), "unknown_key"],
  ["signed by another key under a known kid", signJws("RS256", otherRsa.privateKey, { kid: "r1" }, claims()), "bad_signature"],
  ["wrong issuer", signJws("ES256", ec.privateKey, { kid: "e1" }, claims({ iss: "https://evil.example" })), "bad_issuer"],
  ["no issuer", signJws("ES256", ec.privateKey, { kid: "e1" }, claims({ iss: undefined })), "bad_issuer"],
  ["wrong audience", signJws("ES256", ec.privateKey, { kid: "e1" }, claims({ aud: "other" })), "bad_audience"],
  ["audience list without ours", signJws("ES256", ec.privateKey, { kid: "e1" }, claims({ aud: ["a", "b"] })), "bad_audience"],
  ["expired", signJws("RS256", rsa.privateKey, { kid: "r1" }, claims({ exp: now - 1 })), "expired"],
  ["not yet valid", signJws("RS256", rsa.privateKey, { kid: "r1" }, claims({ nbf: now + 120 })), "not_yet_valid"],
  ["numeric sub", signJws("RS256", rsa.privateKey, { kid: "r1" }, claims({ sub: 42 })), "bad_claims"],
] as const)("%s → %s", (_n, token, failure) => {
  expect(verify(token)).toEqual({ failure });
});

test("an audience list holding ours is accepted", () => {
  expect(verify(signJws("ES256", ec.privateKey, { kid: "e1" }, claims({ aud: ["x", "flash-sale"] })))).toEqual({ userId: "alice" });
});

test("tampering with the payload or the signature is refused", () => {
  for (const [alg, key, kid] of [["RS256", rsa.privateKey, "r1"], ["ES256", ec.privateKey, "e1"], ["EdDSA", ed.privateKey, "d1"]] as const) {
    const [h, , s] = signJws(alg, key, { kid }, claims()).split(".");
    expect(verify(`${h}.${b64url(JSON.stringify(claims({ sub: "mallory" })))}.${s}`)).toEqual({ failure: "bad_signature" });
    const sig = Buffer.from(s as string, "base64url");
    sig[5] = (sig[5] as number) ^ 1;
    expect(verify(`${h}.${b64url(JSON.stringify(claims()))}.${sig.toString("base64url")}`)).toEqual({ failure: "bad_signature" });
  }
});

test("without a key set only HS256 is read", () => {
  expect(verify(signJws("RS256", rsa.privateKey, { kid: "r1" }, claims()), null)).toEqual({ failure: "bad_alg" });
});

test("a set of one key serves a token without kid; a kid it does not hold is unknown", () => {
  const one = keySet([jwk(rsa.publicKey, "r1")]);
  expect(verify(signJws("RS256", rsa.privateKey, {}, claims()), one)).toEqual({ userId: "alice" });
  expect(verify(signJws("RS256", rsa.privateKey, { kid: "r2" }, claims()), one)).toEqual({ failure: "unknown_key" });
});

test("the leeway applies to exp and nbf", () => {
  expect(verify(signJws("RS256", rsa.privateKey, { kid: "r1" }, claims({ exp: now - 5 })), set, 10)).toEqual({ userId: "alice" });
  expect(verify(signJws("RS256", rsa.privateKey, { kid: "r1" }, claims({ nbf: now + 60 })), set, 90)).toEqual({ userId: "alice" });
  expect(verify(signJws("RS256", rsa.privateKey, { kid: "r1" }, claims({ exp: now - 15 })), set, 10)).toEqual({ failure: "expired" });
});

test.each([
  ["a private key", jwk(rsa.privateKey, "p"), "a private key"],
  ["an encryption key", jwk(rsa.publicKey, "x", { use: "enc" }), "use is not sig"],
  ["an RSA key that says PS256", jwk(rsa.publicKey, "x", { alg: "PS256" }), "alg does not fit the key type"],
  ["an RSA key of 1024 bits", jwk(generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey, "x"), "RSA modulus under 2048 bits"],
  ["a P-384 key", jwk(generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey, "x"), "curve is not P-256"],
  ["an oct key", { kty: "oct", k: "c2VjcmV0", kid: "x" }, "unsupported kty"],
] as const)("%s is skipped", (_n, key, why) => {
  expect(jwkToDer(key, nodeKeyPlatform)).toBe(why);
  const read = readKeySet({ keys: [key, jwk(rsa.publicKey, "r1")] }, nodeKeyPlatform);
  expect(typeof read === "string" ? read : [read.set.count, read.skipped]).toEqual([1, [`key 0: ${why}`]]);
});

test("an EC point off the curve is refused by the crypto library", () => {
  const bad = { ...jwk(ec.publicKey, "e9"), y: Buffer.alloc(32, 7).toString("base64url") };
  const read = readKeySet({ keys: [bad] }, nodeKeyPlatform);
  expect(typeof read === "string" ? read : read.skipped).toEqual(["key 0: refused by the crypto library"]);
});

test.each([
  ["two keys of one kid", [jwk(rsa.publicKey, "k"), jwk(ec.publicKey, "k")], "two keys with kid k"],
  ["a key without kid among several", [jwk(rsa.publicKey, undefined), jwk(ec.publicKey, "k")], "a key without kid among several"],
  ["no keys array", undefined, "no keys array"],
] as const)("a set with %s is refused whole", (_n, keys, why) => {
  expect(readKeySet({ keys }, nodeKeyPlatform)).toBe(why);
});

test("an ECDSA signature of 64 bytes becomes DER with its integers' high bits kept positive", () => {
  const raw = Buffer.concat([Buffer.alloc(32, 0x80), Buffer.concat([Buffer.alloc(2, 0), Buffer.alloc(30, 0x11)])]).toString("latin1");
  const der = Buffer.from(ecdsaSignatureToDer(raw) as string, "latin1");
  expect(der.toString("hex")).toBe(`3043022100${"80".repeat(32)}021e${"11".repeat(30)}`);
  expect(ecdsaSignatureToDer("x".repeat(63))).toBeUndefined();
});
