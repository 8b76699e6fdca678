/** The JWT core's platform in Node (the nginx one is adapters/jwt_platform.ts). */
import { createHmac } from "node:crypto";
import type { JwtPlatform } from "../../src/core/jwt";

const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function nodeJwtPlatform(secret: string): JwtPlatform {
  return {
    base64UrlDecode: (s) => (BASE64URL.test(s) && s.length % 4 !== 1 ? Buffer.from(s, "base64url").toString("latin1") : undefined),
    signHs256: (data) => createHmac("sha256", secret).update(data, "latin1").digest("base64url"),
    decodeJson: (s) => {
      try {
        return JSON.parse(Buffer.from(s, "latin1").toString("utf8"));
      } catch {
        return undefined;
      }
    },
  };
}
