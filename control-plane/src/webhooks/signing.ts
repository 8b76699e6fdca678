/**
 * Standard Webhooks signatures (standardwebhooks): `v1,<base64 HMAC-SHA256 of id.timestamp.body>`
 * per secret, space-separated; the receiver accepts any one it verifies. During a rotation the
 * previous secret signs too, so a receiver still holding it keeps verifying.
 */
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

/** A new endpoint secret: whsec_ and 32 random bytes in base64, as the standard's libraries read it. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

export function signedHeaders(id: string, at: Date, body: string, secrets: readonly string[]): SignedHeaders {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": secrets.map((s) => new Webhook(s).sign(id, at, body)).join(" "),
  };
}
