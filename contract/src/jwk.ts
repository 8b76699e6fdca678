/**
 * The shop's identity provider's public keys (a JWKS) as the gateway uses them: each JWK read to
 * a DER SubjectPublicKeyInfo that the platform loads (d2i_PUBKEY in nginx, createPublicKey in
 * Node), its algorithm pinned by its type: RSA → RS256, EC P-256 → ES256, OKP Ed25519 → EdDSA.
 * A key no algorithm of these fits is skipped, never guessed; nothing here is an HMAC secret.
 * The control plane validates a fetched set with the same code before it publishes it.
 */

export type KeyAlg = "RS256" | "ES256" | "EdDSA";

export interface KeyPlatform {
  /** Decodes unpadded base64url to bytes; undefined when s is not valid base64url. */
  base64UrlDecode(this: void, s: string): string | undefined;
  /** The platform's public key of a DER SubjectPublicKeyInfo; undefined when it refuses it. */
  loadPublicKey(this: void, der: string, alg: KeyAlg): unknown;
}

/** One usable key of the set. */
export interface VerifyKey {
  kid: string | undefined;
  alg: KeyAlg;
  /** What KeyPlatform.loadPublicKey gave. */
  handle: unknown;
}

export interface KeySet {
  /** kid → key. */
  byKid: { [kid: string]: VerifyKey | undefined };
  /** The one key of a set of one: a token without `kid` may use it, never one of several. */
  only: VerifyKey | undefined;
  count: number;
}

/** Smallest RSA modulus accepted, bytes (2048 bits). */
export const MIN_RSA_MODULUS_BYTES = 256;
/** A key set larger than this is refused whole: a provider publishes a handful. */
export const MAX_KEYS = 32;

function derLength(n: number): string {
  if (n < 0x80) return String.fromCharCode(n);
  if (n < 0x100) return String.fromCharCode(0x81, n);
  return String.fromCharCode(0x82, Math.floor(n / 256), n % 256);
}

function tlv(tag: number, content: string): string {
  return String.fromCharCode(tag) + derLength(content.length) + content;
}

/** A DER INTEGER of unsigned big-endian bytes: leading zeros dropped, a zero added before a high bit. */
function derUnsigned(bytes: string): string {
  let start = 0;
  while (start < bytes.length - 1 && bytes.charCodeAt(start) === 0) start++;
  const digits = bytes.substring(start);
  return tlv(0x02, digits.charCodeAt(0) >= 0x80 ? String.fromCharCode(0) + digits : digits);
}

/** Bytes without their leading zeros. */
function significantLength(bytes: string): number {
  let start = 0;
  while (start < bytes.length && bytes.charCodeAt(start) === 0) start++;
  return bytes.length - start;
}

// AlgorithmIdentifier contents: rsaEncryption + NULL; id-ecPublicKey + prime256v1; id-Ed25519.
// Built with fromCharCode: a "\x86" literal would reach Lua as two bytes of UTF-8.
const RSA_ALGORITHM = tlv(0x06, String.fromCharCode(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01)) + String.fromCharCode(0x05, 0x00);
const P256_ALGORITHM =
  tlv(0x06, String.fromCharCode(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01)) + tlv(0x06, String.fromCharCode(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07));
const ED25519_ALGORITHM = tlv(0x06, String.fromCharCode(0x2b, 0x65, 0x70));

function spki(algorithm: string, publicKey: string): string {
  return tlv(0x30, tlv(0x30, algorithm) + tlv(0x03, String.fromCharCode(0) + publicKey));
}

function text(jwk: { [k: string]: unknown }, name: string): string | undefined {
  const v = jwk[name];
  return typeof v === "string" ? v : undefined;
}

/**
 * A JWK's algorithm and DER SubjectPublicKeyInfo, or why it is not used: a private key, a key
 * for encryption, an algorithm other than the one its type pins, a weak or malformed key.
 */
export function jwkToDer(jwk: unknown, platform: KeyPlatform): { alg: KeyAlg; der: string } | string {
  if (typeof jwk !== "object" || jwk === null) return "not an object";
  const k = jwk as { [k: string]: unknown };
  if (k["d"] !== undefined || k["p"] !== undefined) return "a private key";
  const use = k["use"];
  if (use !== undefined && use !== "sig") return "use is not sig";
  const kty = text(k, "kty");
  let alg: KeyAlg;
  let der: string;
  if (kty === "RSA") {
    alg = "RS256";
    const n = platform.base64UrlDecode(text(k, "n") ?? "!");
    const e = platform.base64UrlDecode(text(k, "e") ?? "!");
    if (n === undefined || e === undefined || e.length === 0 || e.length > 8) return "bad n or e";
    if (significantLength(n) < MIN_RSA_MODULUS_BYTES) return "RSA modulus under 2048 bits";
    der = spki(RSA_ALGORITHM, tlv(0x30, derUnsigned(n) + derUnsigned(e)));
  } else if (kty === "EC") {
    alg = "ES256";
    if (text(k, "crv") !== "P-256") return "curve is not P-256";
    const x = platform.base64UrlDecode(text(k, "x") ?? "!");
    const y = platform.base64UrlDecode(text(k, "y") ?? "!");
    if (x === undefined || y === undefined || x.length !== 32 || y.length !== 32) return "bad x or y";
    der = spki(P256_ALGORITHM, String.fromCharCode(4) + x + y);
  } else if (kty === "OKP") {
    alg = "EdDSA";
    if (text(k, "crv") !== "Ed25519") return "curve is not Ed25519";
    const x = platform.base64UrlDecode(text(k, "x") ?? "!");
    if (x === undefined || x.length !== 32) return "bad x";
    der = spki(ED25519_ALGORITHM, x);
  } else {
    return "unsupported kty";
  }
  const declared = k["alg"];
  if (declared !== undefined && declared !== alg) return "alg does not fit the key type";
  return { alg, der };
}

/**
 * The usable keys of a JWKS (`{"keys": [...]}`) and, for each key skipped, its index and why.
 * A set with two keys of one kid, or one without a kid among several, is refused whole
 * (a string): the gateway could not tell which key a token means.
 */
export function readKeySet(jwks: unknown, platform: KeyPlatform): { set: KeySet; skipped: string[] } | string {
  if (typeof jwks !== "object" || jwks === null) return "not an object";
  const keys = (jwks as { [k: string]: unknown })["keys"];
  if (typeof keys !== "object" || keys === null) return "no keys array";
  const list = keys as unknown[];
  if (list.length > MAX_KEYS) return "more than " + MAX_KEYS + " keys";
  const set: KeySet = { byKid: {}, only: undefined, count: 0 };
  const skipped: string[] = [];
  let withoutKid: VerifyKey | undefined;
  for (let i = 0; i < list.length; i++) {
    const jwk = list[i];
    const read = jwkToDer(jwk, platform);
    if (typeof read === "string") {
      skipped.push("key " + i + ": " + read);
      continue;
    }
    const handle = platform.loadPublicKey(read.der, read.alg);
    if (handle === undefined) {
      skipped.push("key " + i + ": refused by the crypto library");
      continue;
    }
    const kid = text(jwk as { [k: string]: unknown }, "kid");
    const key: VerifyKey = { kid, alg: read.alg, handle };
    if (kid === undefined) {
      if (withoutKid !== undefined) return "two keys without kid";
      withoutKid = key;
    } else {
      if (set.byKid[kid] !== undefined) return "two keys with kid " + kid;
      set.byKid[kid] = key;
    }
    set.count++;
  }
  if (withoutKid !== undefined && set.count > 1) return "a key without kid among several";
  if (set.count === 1) {
    if (withoutKid !== undefined) {
      set.only = withoutKid;
    } else {
      for (const kid in set.byKid) set.only = set.byKid[kid];
    }
  }
  return { set, skipped };
}

/**
 * A JWS ECDSA signature (r || s, 32 bytes each for ES256) as the DER ECDSA-Sig-Value OpenSSL
 * verifies; undefined when it is not 64 bytes.
 */
export function ecdsaSignatureToDer(raw: string): string | undefined {
  if (raw.length !== 64) return undefined;
  return tlv(0x30, derUnsigned(raw.substring(0, 32)) + derUnsigned(raw.substring(32)));
}
