/**
 * The JWT core's platform in nginx: base64url from lua-resty-core, HMAC-SHA256 built on
 * lua-resty-string's SHA-256 (lua-nginx-module has HMAC-SHA1 only), cjson.safe.
 * The secret's inner and outer pads are computed once, so a signature costs two hashes, on two
 * hashers per worker that are reset for each signature (signing never yields, so no two
 * requests use them at once). Signatures of the shop's identity provider's keys, and the
 * constant-time compare of an HS256 signature, go to libcrypto.
 */
import { decode_base64url, encode_base64url } from "ngx.base64";
import * as sha256 from "resty.sha256";
import type { JwtPlatform } from "@flash-sale/contract/jwt";
import { decodeJson } from "./json";
import { constantTimeEquals, verifySignature } from "./libcrypto";

const BLOCK_SIZE = 64;

function newHasher(): RestySha256 {
  const h = sha256.new();
  if (h === undefined) error("resty.sha256 unavailable", 0);
  return h;
}

/** SHA-256 of `first` then `second`, on `h` from its start. */
function hashOf(h: RestySha256, first: string, second: string): string {
  h.reset();
  h.update(first);
  h.update(second);
  return h.final();
}

function pad(key: string, byte: number): string {
  const out: string[] = [];
  for (let i = 1; i <= BLOCK_SIZE; i++) {
    const k = i <= key.length ? key.charCodeAt(i - 1) : 0;
    out.push(string.char(k ^ byte));
  }
  return table.concat(out);
}

export function createJwtPlatform(secret: string): JwtPlatform {
  const inner = newHasher();
  const outer = newHasher();
  const key = secret.length > BLOCK_SIZE ? hashOf(inner, secret, "") : secret;
  const innerPad = pad(key, 0x36);
  const outerPad = pad(key, 0x5c);
  return {
    base64UrlDecode: (s) => decode_base64url(s) ?? undefined,
    signHs256: (data) => encode_base64url(hashOf(outer, outerPad, hashOf(inner, innerPad, data))),
    decodeJson,
    verifySignature,
    constantTimeEquals,
  };
}
