/**
 * JWT checks: structure, `alg`, signature, `sub`, `exp` and `nbf`; for a token of the shop's
 * identity provider (RS256, ES256, EdDSA, checked with a key of its JWKS: core/jwk.ts) also
 * `iss` and `aud` where the gateway expects them. HS256 is checked with the gateway's secret
 * only: a key of the set never serves as an HMAC secret, and a key verifies only the algorithm
 * its type pins. The platform supplies base64url, HMAC, JSON and signature checks (ngx/resty and
 * libcrypto in nginx, node:crypto in Node) through JwtPlatform.
 */
import { isValidUserId } from "./ids";
import { ecdsaSignatureToDer, type KeySet } from "./jwk";

export interface JwtPlatform {
  /** Decodes unpadded base64url; undefined when s is not valid base64url. */
  base64UrlDecode(this: void, s: string): string | undefined;
  /** base64url (unpadded) of HMAC-SHA256(secret, data). */
  signHs256(this: void, data: string): string;
  /** Parses JSON; undefined when s is not JSON. */
  decodeJson(this: void, s: string): unknown;
  /**
   * Whether `signature` (bytes; DER for ECDSA) over `data` verifies with a key's handle
   * (core/jwk.ts) under its algorithm; absent: no key set is used.
   */
  verifySignature?(this: void, handle: unknown, alg: string, data: string, signature: string): boolean;
  /**
   * constantTimeEquals done by the platform (in nginx one C call, which LuaJIT compiles into the
   * trace, where the byte loop aborts each root trace that reaches it); absent: constantTimeEquals.
   */
  constantTimeEquals?(this: void, a: string, b: string): boolean;
}

export type JwtFailure =
  | "malformed"
  | "bad_alg"
  | "unknown_key"
  | "bad_signature"
  | "bad_claims"
  | "bad_issuer"
  | "bad_audience"
  | "expired"
  | "not_yet_valid"
  | "lives_too_long";

/** What a token of the key set must also claim; undefined: not checked. */
export interface TokenExpectations {
  issuer: string | undefined;
  /** Equal to `aud`, or one of its entries. */
  audience: string | undefined;
}

export interface JwtResult {
  /** The user id (`sub`) when the token is good. */
  userId?: string;
  failure?: JwtFailure;
}

/**
 * How far `nbf` may be ahead of this clock at least: the platform's clock may run a little ahead.
 * A larger leeway (FS_JWT_LEEWAY_SECONDS) applies to `nbf` and `exp` alike.
 */
export const NBF_LEEWAY_SECONDS = 30;

/** Longest token accepted; a shopper token is well under 1 KB. */
export const MAX_TOKEN_LENGTH = 2048;

/** Compares two strings in time that depends on their length only. */
export function constantTimeEquals(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    diff = diff | (a.charCodeAt(i) ^ b.charCodeAt(i));
  }
  return diff === 0;
}

function field(v: unknown, name: string): unknown {
  if (typeof v !== "object" || v === null) return undefined;
  return (v as { [k: string]: unknown })[name];
}

function fail(failure: JwtFailure): JwtResult {
  return { failure };
}

/** What a well-signed token claims: who, until when (`exp`) and from when (`nbf`, optional). */
export interface ShopperClaims {
  userId: string;
  exp: number;
  nbf: number | undefined;
}

/**
 * The last header part read, and its `alg` and `kid`. An issuer sends one header for all its
 * tokens signed with a key, so it is decoded once, not per token; a different one is decoded.
 */
let lastHeaderPart: string | undefined;
let lastAlg: unknown;
let lastKid: unknown;

function audienceHas(aud: unknown, audience: string): boolean {
  if (aud === audience) return true;
  if (typeof aud !== "object" || aud === null) return false;
  const list = aud as unknown[];
  for (let i = 0; i < list.length; i++) if (list[i] === audience) return true;
  return false;
}

/**
 * Reads a token: structure, `alg`, signature, the claims' types and, for a token of the key set,
 * `iss` and `aud` as `expect` asks; not yet judged against a clock (judgeClaims), so a caller may
 * keep the claims of a token it has read. HS256 is checked with the platform's secret; RS256,
 * ES256 and EdDSA with the key of `keys` its `kid` names (or the set's only key when it has no
 * `kid`), whose type must pin that algorithm. Without `keys` only HS256 is read.
 */
export function readToken(token: string, platform: JwtPlatform, keys?: KeySet, expect?: TokenExpectations): ShopperClaims | JwtFailure {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return "malformed";
  const firstDot = token.indexOf(".");
  if (firstDot <= 0) return "malformed";
  const secondDot = token.indexOf(".", firstDot + 1);
  if (secondDot <= firstDot + 1 || secondDot === token.length - 1) return "malformed";
  if (token.indexOf(".", secondDot + 1) !== -1) return "malformed";

  const headerPart = token.substring(0, firstDot);
  if (headerPart !== lastHeaderPart) {
    const headerJson = platform.base64UrlDecode(headerPart);
    if (headerJson === undefined) return "malformed";
    const header = platform.decodeJson(headerJson);
    if (typeof header !== "object" || header === null) return "malformed";
    lastHeaderPart = headerPart;
    lastAlg = field(header, "alg");
    lastKid = field(header, "kid");
  }

  const signed = token.substring(0, secondDot);
  const fromKeySet = lastAlg !== "HS256";
  if (!fromKeySet) {
    const equals = platform.constantTimeEquals ?? constantTimeEquals;
    if (!equals(platform.signHs256(signed), token.substring(secondDot + 1))) return "bad_signature";
  } else {
    if (lastAlg !== "RS256" && lastAlg !== "ES256" && lastAlg !== "EdDSA") return "bad_alg";
    if (keys === undefined || platform.verifySignature === undefined) return "bad_alg";
    if (lastKid !== undefined && typeof lastKid !== "string") return "malformed";
    const key = lastKid === undefined ? keys.only : keys.byKid[lastKid];
    if (key === undefined) return "unknown_key";
    if (key.alg !== lastAlg) return "bad_alg";
    const raw = platform.base64UrlDecode(token.substring(secondDot + 1));
    if (raw === undefined) return "malformed";
    const signature = key.alg === "ES256" ? ecdsaSignatureToDer(raw) : raw;
    if (signature === undefined || !platform.verifySignature(key.handle, key.alg, signed, signature)) return "bad_signature";
  }

  const payloadJson = platform.base64UrlDecode(token.substring(firstDot + 1, secondDot));
  if (payloadJson === undefined) return "malformed";
  const payload = platform.decodeJson(payloadJson);
  const sub = field(payload, "sub");
  const exp = field(payload, "exp");
  if (typeof sub !== "string" || !isValidUserId(sub)) return "bad_claims";
  if (typeof exp !== "number" || exp !== exp) return "bad_claims";
  const nbf = field(payload, "nbf");
  if (nbf !== undefined && (typeof nbf !== "number" || nbf !== nbf)) return "bad_claims";
  if (fromKeySet && expect !== undefined) {
    if (expect.issuer !== undefined && field(payload, "iss") !== expect.issuer) return "bad_issuer";
    if (expect.audience !== undefined && !audienceHas(field(payload, "aud"), expect.audience)) return "bad_audience";
  }
  return { userId: sub, exp, nbf: nbf as number | undefined };
}

/** Reads an HS256 token (readToken without a key set). */
export function readHs256(token: string, platform: JwtPlatform): ShopperClaims | JwtFailure {
  return readToken(token, platform);
}

/**
 * Judges claims at nowSec (epoch seconds), `leewaySec` of clock skew allowed. A token whose `exp`
 * lies more than maxLifetimeSec ahead is refused: a leaked one must not work for ever.
 */
export function judgeClaims(claims: ShopperClaims, nowSec: number, maxLifetimeSec = Infinity, leewaySec = 0): JwtFailure | undefined {
  if (claims.exp + leewaySec <= nowSec) return "expired";
  if (claims.exp - nowSec > maxLifetimeSec) return "lives_too_long";
  if (claims.nbf !== undefined && claims.nbf > nowSec + (leewaySec > NBF_LEEWAY_SECONDS ? leewaySec : NBF_LEEWAY_SECONDS)) return "not_yet_valid";
  return undefined;
}

/** Reads and judges an HS256 token at nowSec (readHs256, then judgeClaims). */
export function verifyHs256(token: string, nowSec: number, platform: JwtPlatform, maxLifetimeSec = Infinity): JwtResult {
  return verifyToken(token, nowSec, platform, maxLifetimeSec);
}

/** Reads and judges a token at nowSec (readToken, then judgeClaims). */
export function verifyToken(
  token: string,
  nowSec: number,
  platform: JwtPlatform,
  maxLifetimeSec = Infinity,
  keys?: KeySet,
  expect?: TokenExpectations,
  leewaySec = 0,
): JwtResult {
  const claims = readToken(token, platform, keys, expect);
  if (typeof claims === "string") return fail(claims);
  const failure = judgeClaims(claims, nowSec, maxLifetimeSec, leewaySec);
  return failure === undefined ? { userId: claims.userId } : fail(failure);
}
