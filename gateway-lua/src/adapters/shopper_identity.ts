/**
 * Who the shopper is: the HS256 token checked with the gateway's secret. Each worker remembers
 * the claims of the last tokens it read well (adapters/memo.ts: the oldest forgotten first), so a shopper
 * who polls or retries with the same token skips the hashes and the decoding; the claims are
 * judged against the clock on every request all the same. Only a token string read well before
 * is remembered, so nothing is accepted that reading it again would refuse.
 */
import { judgeClaims, readHs256, type JwtPlatform, type ShopperClaims } from "../core/jwt";
import { createJwtPlatform } from "./jwt_platform";
import { newMemo, type Memo } from "./memo";

let platform: JwtPlatform | undefined;
let maxLifetimeSec = 0;
let known: Memo<ShopperClaims> | undefined;

/** Prepares the HMAC pads of the secret and the memo of claims; called once at init. */
export function initShopperIdentity(secret: string, tokenMaxLifetimeSec: number, memoSize: number): void {
  platform = createJwtPlatform(secret);
  maxLifetimeSec = tokenMaxLifetimeSec;
  known = newMemo<ShopperClaims>(memoSize);
}

/** The user id of a good token at nowSec, or undefined. */
export function shopperOfToken(token: string, nowSec: number): string | undefined {
  let claims = known?.get(token);
  if (claims === undefined) {
    const read = readHs256(token, platform as JwtPlatform);
    if (typeof read === "string") return undefined;
    claims = read;
    known?.set(token, claims);
  }
  return judgeClaims(claims, nowSec, maxLifetimeSec) === undefined ? claims.userId : undefined;
}
