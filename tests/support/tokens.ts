/** Shopper tokens (HS256 JWTs) signed the way the platform signs them. */
import { createHmac } from "node:crypto";

export const TEST_JWT_SECRET = "test-secret-test-secret-test-secret-0123456789";

export function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

export interface TokenOptions {
  secret?: string;
  alg?: string;
  expiresInSec?: number;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
}

export function signToken(sub: string, opts: TokenOptions = {}): string {
  const header = opts.header ?? { alg: opts.alg ?? "HS256", typ: "JWT" };
  const exp = Math.floor(Date.now() / 1000) + (opts.expiresInSec ?? 3600);
  const claims = opts.claims ?? { sub, exp };
  const signed = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = createHmac("sha256", opts.secret ?? TEST_JWT_SECRET).update(signed).digest("base64url");
  return `${signed}.${sig}`;
}
