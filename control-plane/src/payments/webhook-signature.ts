/**
 * The payment provider's webhook signature: hex HMAC-SHA256 with the shared secret over
 * `<timestamp>.<raw body>`, the timestamp (epoch seconds) in its own header. A delivery is
 * refused when the signature is wrong or the timestamp is outside the skew window.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const TIMESTAMP_HEADER = "x-payment-timestamp";
export const SIGNATURE_HEADER = "x-payment-signature";

export function signDelivery(secret: string, timestampSec: string, body: Buffer): string {
  return createHmac("sha256", secret).update(`${timestampSec}.`).update(body).digest("hex");
}

/** undefined when the delivery is authentic and fresh, else why it is refused. */
export function checkDelivery(
  secret: string,
  timestampSec: string | undefined,
  signature: string | undefined,
  body: Buffer,
  nowMs: number,
  skewSec: number,
): string | undefined {
  if (timestampSec === undefined || !/^\d{1,12}$/.test(timestampSec)) return `${TIMESTAMP_HEADER} must be epoch seconds`;
  if (signature === undefined || !/^[0-9a-f]{64}$/.test(signature)) return `${SIGNATURE_HEADER} must be a hex HMAC-SHA256`;
  const expected = Buffer.from(signDelivery(secret, timestampSec, body), "hex");
  if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) return "the signature does not match";
  if (Math.abs(nowMs / 1000 - Number(timestampSec)) > skewSec) return `the timestamp is more than ${skewSec} s from now`;
  return undefined;
}
