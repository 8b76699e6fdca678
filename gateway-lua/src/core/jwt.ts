/**
 * HS256 JWT checks: structure, `alg`, signature, `sub`, `exp` and `nbf`. The platform supplies
 * base64url, HMAC and JSON (ngx/resty in nginx, node:crypto in Node) through JwtPlatform.
 */
import { isValidUserId } from "./ids";

export interface JwtPlatform {
  /** Decodes unpadded base64url; undefined when s is not valid base64url. */
  base64UrlDecode(this: void, s: string): string | undefined;
  /** base64url (unpadded) of HMAC-SHA256(secret, data). */
  signHs256(this: void, data: string): string;
  /** Parses JSON; undefined when s is not JSON. */
  decodeJson(this: void, s: string): unknown;
}

export type JwtFailure = "malformed" | "bad_alg" | "bad_signature" | "bad_claims" | "expired" | "not_yet_valid" | "lives_too_long";

export interface JwtResult {
  /** The user id (`sub`) when the token is good. */
  userId?: string;
  failure?: JwtFailure;
}

/** How far `nbf` may be ahead of this clock: the platform's clock may run a little ahead. */
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
 * The last header part found to say HS256. An issuer sends one header for all its tokens, so
 * it is decoded once, not per token; a different one is decoded as before.
 */
let goodHeaderPart: string | undefined;

/**
 * Reads an HS256 token: structure, `alg`, signature and the claims' types; not yet judged
 * against a clock (judgeClaims), so a caller may keep the claims of a token it has read.
 */
export function readHs256(token: string, platform: JwtPlatform): ShopperClaims | JwtFailure {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return "malformed";
  const firstDot = token.indexOf(".");
  if (firstDot <= 0) return "malformed";
  const secondDot = token.indexOf(".", firstDot + 1);
  if (secondDot <= firstDot + 1 || secondDot === token.length - 1) return "malformed";
  if (token.indexOf(".", secondDot + 1) !== -1) return "malformed";

  const headerPart = token.substring(0, firstDot);
  if (headerPart !== goodHeaderPart) {
    const headerJson = platform.base64UrlDecode(headerPart);
    if (headerJson === undefined) return "malformed";
    const header = platform.decodeJson(headerJson);
    if (typeof header !== "object" || header === null) return "malformed";
    if (field(header, "alg") !== "HS256") return "bad_alg";
    goodHeaderPart = headerPart;
  }

  const signed = token.substring(0, secondDot);
  if (!constantTimeEquals(platform.signHs256(signed), token.substring(secondDot + 1))) return "bad_signature";

  const payloadJson = platform.base64UrlDecode(token.substring(firstDot + 1, secondDot));
  if (payloadJson === undefined) return "malformed";
  const payload = platform.decodeJson(payloadJson);
  const sub = field(payload, "sub");
  const exp = field(payload, "exp");
  if (typeof sub !== "string" || !isValidUserId(sub)) return "bad_claims";
  if (typeof exp !== "number" || exp !== exp) return "bad_claims";
  const nbf = field(payload, "nbf");
  if (nbf !== undefined && (typeof nbf !== "number" || nbf !== nbf)) return "bad_claims";
  return { userId: sub, exp, nbf: nbf as number | undefined };
}

/**
 * Judges claims at nowSec (epoch seconds). A token whose `exp` lies more than maxLifetimeSec
 * ahead is refused: a leaked one must not work for ever.
 */
export function judgeClaims(claims: ShopperClaims, nowSec: number, maxLifetimeSec = Infinity): JwtFailure | undefined {
  if (claims.exp <= nowSec) return "expired";
  if (claims.exp - nowSec > maxLifetimeSec) return "lives_too_long";
  if (claims.nbf !== undefined && claims.nbf > nowSec + NBF_LEEWAY_SECONDS) return "not_yet_valid";
  return undefined;
}

/** Reads and judges an HS256 token at nowSec (readHs256, then judgeClaims). */
export function verifyHs256(token: string, nowSec: number, platform: JwtPlatform, maxLifetimeSec = Infinity): JwtResult {
  const claims = readHs256(token, platform);
  if (typeof claims === "string") return fail(claims);
  const failure = judgeClaims(claims, nowSec, maxLifetimeSec);
  return failure === undefined ? { userId: claims.userId } : fail(failure);
}
