/** The JWT core's platform in Node (the nginx one is adapters/jwt_platform.ts). */
import { createHmac, createPublicKey, verify, type KeyObject } from "node:crypto";
import type { JwtPlatform } from "../../src/jwt";
import type { KeyPlatform } from "../../src/jwk";

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function base64UrlDecode(s: string): string | undefined {
  return BASE64URL.test(s) && s.length % 4 !== 1 ? Buffer.from(s, "base64url").toString("latin1") : undefined;
}

/** Loads the DER public keys of core/jwk.ts as KeyObjects. */
export const nodeKeyPlatform: KeyPlatform = {
  base64UrlDecode,
  loadPublicKey: (der) => {
    try {
      return createPublicKey({ key: Buffer.from(der, "latin1"), format: "der", type: "spki" });
    } catch {
      return undefined;
    }
  },
};

export function nodeJwtPlatform(secret: string): JwtPlatform {
  return {
    base64UrlDecode,
    signHs256: (data) => createHmac("sha256", secret).update(data, "latin1").digest("base64url"),
    decodeJson: (s) => {
      try {
        return JSON.parse(Buffer.from(s, "latin1").toString("utf8"));
      } catch {
        return undefined;
      }
    },
    verifySignature: (handle, alg, data, signature) => {
      try {
        return verify(alg === "EdDSA" ? null : "sha256", Buffer.from(data, "latin1"), handle as KeyObject, Buffer.from(signature, "latin1"));
      } catch {
        return false;
      }
    },
  };
}
