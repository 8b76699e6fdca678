/**
 * Shopper tokens (HS256 JWT, claims `sub` and `exp`) as the platform signs them, for
 * development, demos and load tests: in production the platform, not the control plane, logs
 * shoppers in.
 */
import { createHmac } from "node:crypto";
import { isValidUserId } from "@flash-sale/contract/ids";

function base64Url(json: object): string {
  return Buffer.from(JSON.stringify(json)).toString("base64url");
}

export function signShopperToken(
  secret: string,
  userId: string,
  ttlSeconds: number,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): string {
  if (!isValidUserId(userId)) throw new Error("the user id must be 1–128 printable ASCII characters without spaces");
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new Error("the lifetime must be a whole number of seconds, 1 or more");
  const signed = `${base64Url({ alg: "HS256", typ: "JWT" })}.${base64Url({ sub: userId, exp: nowSeconds + ttlSeconds })}`;
  return `${signed}.${createHmac("sha256", secret).update(signed).digest("base64url")}`;
}
