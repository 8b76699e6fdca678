/** Shopper tokens signed in the gateway, for the development login only (handlers/dev_login.ts). */
import { encode_base64url } from "ngx.base64";
import type { JwtPlatform } from "@flash-sale/contract/jwt";
import { createJwtPlatform } from "./jwt_platform";
import { encodeJson } from "./json";

const HEADER = encode_base64url('{"alg":"HS256","typ":"JWT"}');

let platform: JwtPlatform | undefined;

/** Prepares the HMAC of the gateway's key; called once at init. */
export function initDevTokens(secret: string): void {
  platform = createJwtPlatform(secret);
}

/** An HS256 token with `sub` = userId and `exp` = expSec. */
export function devShopperToken(userId: string, expSec: number): string {
  const payload = encode_base64url('{"sub":' + encodeJson(userId) + ',"exp":' + string.format("%d", expSec) + "}");
  const signed = HEADER + "." + payload;
  return signed + "." + (platform as JwtPlatform).signHs256(signed);
}
