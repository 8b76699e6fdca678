/** Who the shopper is: the HS256 token checked with the gateway's secret. */
import { verifyHs256, type JwtPlatform, type JwtResult } from "../core/jwt";
import { createJwtPlatform } from "./jwt_platform";

let platform: JwtPlatform | undefined;
let maxLifetimeSec = 0;

/** Prepares the HMAC pads of the secret; called once at init. */
export function initShopperIdentity(secret: string, tokenMaxLifetimeSec: number): void {
  platform = createJwtPlatform(secret);
  maxLifetimeSec = tokenMaxLifetimeSec;
}

export function verifyShopperToken(token: string, nowSec: number): JwtResult {
  return verifyHs256(token, nowSec, platform as JwtPlatform, maxLifetimeSec);
}
