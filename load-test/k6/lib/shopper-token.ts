/** Shopper tokens signed inside k6: HS256 JWTs with `sub` and `exp`, as the gateway expects. */
import { hmac } from "k6/crypto";
import encoding from "k6/encoding";

const HEADER = encoding.b64encode(JSON.stringify({ alg: "HS256", typ: "JWT" }), "rawurl");

export function signShopperToken(userId: string, secret: string, ttlSeconds: number): string {
  const claims = encoding.b64encode(JSON.stringify({ sub: userId, exp: Math.floor(Date.now() / 1000) + ttlSeconds }), "rawurl");
  const signed = `${HEADER}.${claims}`;
  return `${signed}.${hmac("sha256", secret, signed, "base64rawurl")}`;
}
