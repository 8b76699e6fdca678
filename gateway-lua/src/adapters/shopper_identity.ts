/**
 * Who the shopper is: an HS256 token checked with the gateway's secret, or a token of the shop's
 * identity provider checked with its key set (adapters/key_set.ts). Each worker remembers
 * the claims of the last tokens it read well (adapters/memo.ts: the oldest forgotten first), so a shopper
 * who polls with the same token skips the hashes and the decoding; the claims are judged against
 * the clock on every request all the same. Only a token string read well before is remembered,
 * so nothing is accepted that reading it again would refuse; the memo is dropped when the key set
 * changes, so a token of a removed key is refused from the next request on.
 *
 * Only requests that come again remember (polls, order and session reads); a purchase or a
 * challenge looks its token up but does not add it. In a rush each shopper buys about once, and
 * remembering every one-shot token cost more than checking it: 62 against 45 µs of nginx CPU
 * per admitted purchase of distinct shoppers, in interleaved runs on one worker.
 */
import { judgeClaims, readToken, type JwtPlatform, type ShopperClaims } from "@flash-sale/contract/jwt";
import { createJwtPlatform } from "./jwt_platform";
import { currentKeySet, keySetGeneration, tokenExpectations, tokenLeewaySec, unknownKidSeenNow } from "./key_set";
import { newMemo, type Memo } from "./memo";

let platform: JwtPlatform | undefined;
let maxLifetimeSec = 0;
let memoSize = 0;
let known: Memo<ShopperClaims> | undefined;
/** The key set generation the memo was filled under. */
let knownGeneration = 0;

/** Prepares the HMAC pads of the secret and the memo of claims; called once at init. */
export function initShopperIdentity(secret: string, tokenMaxLifetimeSec: number, size: number): void {
  platform = createJwtPlatform(secret);
  maxLifetimeSec = tokenMaxLifetimeSec;
  memoSize = size;
  known = newMemo<ShopperClaims>(size);
}

/** The user id of a good token at nowSec, or undefined; `remember`: add it to the memo once read. */
export function shopperOfToken(token: string, nowSec: number, remember: boolean): string | undefined {
  if (knownGeneration !== keySetGeneration()) {
    known = newMemo<ShopperClaims>(memoSize);
    knownGeneration = keySetGeneration();
  }
  let claims = known?.get(token);
  if (claims === undefined) {
    const read = readToken(token, platform as JwtPlatform, currentKeySet(), tokenExpectations());
    if (typeof read === "string") {
      if (read === "unknown_key") unknownKidSeenNow();
      return undefined;
    }
    claims = read;
    if (remember) known?.set(token, claims);
  }
  return judgeClaims(claims, nowSec, maxLifetimeSec, tokenLeewaySec()) === undefined ? claims.userId : undefined;
}
