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

/**
 * Verifies an HS256 token at nowSec (epoch seconds). A token whose `exp` lies more than
 * maxLifetimeSec ahead is refused: a leaked one must not work for ever.
 */
export function verifyHs256(token: string, nowSec: number, platform: JwtPlatform, maxLifetimeSec = Infinity): JwtResult {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return fail("malformed");
  const firstDot = token.indexOf(".");
  if (firstDot <= 0) return fail("malformed");
  const secondDot = token.indexOf(".", firstDot + 1);
  if (secondDot <= firstDot + 1 || secondDot === token.length - 1) return fail("malformed");
  if (token.indexOf(".", secondDot + 1) !== -1) return fail("malformed");

  const headerJson = platform.base64UrlDecode(token.substring(0, firstDot));
  if (headerJson === undefined) return fail("malformed");
  const header = platform.decodeJson(headerJson);
  if (typeof header !== "object" || header === null) return fail("malformed");
  if (field(header, "alg") !== "HS256") return fail("bad_alg");

  const signed = token.substring(0, secondDot);
  if (!constantTimeEquals(platform.signHs256(signed), token.substring(secondDot + 1))) {
    return fail("bad_signature");
  }

  const payloadJson = platform.base64UrlDecode(token.substring(firstDot + 1, secondDot));
  if (payloadJson === undefined) return fail("malformed");
  const payload = platform.decodeJson(payloadJson);
  const sub = field(payload, "sub");
  const exp = field(payload, "exp");
  if (typeof sub !== "string" || !isValidUserId(sub)) return fail("bad_claims");
  if (typeof exp !== "number" || exp !== exp) return fail("bad_claims");
  if (exp <= nowSec) return fail("expired");
  if (exp - nowSec > maxLifetimeSec) return fail("lives_too_long");
  const nbf = field(payload, "nbf");
  if (nbf !== undefined && (typeof nbf !== "number" || nbf !== nbf)) return fail("bad_claims");
  if (typeof nbf === "number" && nbf > nowSec + NBF_LEEWAY_SECONDS) return fail("not_yet_valid");
  return { userId: sub };
}
