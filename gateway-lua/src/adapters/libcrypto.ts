/**
 * Public-key signature checks through LuaJIT's FFI to libcrypto (OpenSSL 1.1 or 3, which nginx
 * links), the way lua-resty-openssl does: a key from a DER SubjectPublicKeyInfo (d2i_PUBKEY,
 * built from the JWK by core/jwk.ts), checked with EVP_DigestVerify on one context per worker,
 * reset after each check (a check never yields, so no two requests share it at once). Failures
 * are values; OpenSSL's error queue is cleared after each so it never reaches nginx's TLS.
 */
import * as ffi from "ffi";
import type { KeyAlg } from "@flash-sale/contract/jwk";

ffi.cdef(`
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct evp_md_st EVP_MD;
typedef struct evp_pkey_ctx_st EVP_PKEY_CTX;
typedef struct engine_st ENGINE;
EVP_PKEY *d2i_PUBKEY(EVP_PKEY **a, const unsigned char **pp, long length);
void EVP_PKEY_free(EVP_PKEY *pkey);
EVP_MD_CTX *EVP_MD_CTX_new(void);
int EVP_MD_CTX_reset(EVP_MD_CTX *ctx);
const EVP_MD *EVP_sha256(void);
int EVP_DigestVerifyInit(EVP_MD_CTX *ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type, ENGINE *e, EVP_PKEY *pkey);
int EVP_DigestVerify(EVP_MD_CTX *ctx, const unsigned char *sig, size_t siglen, const unsigned char *tbs, size_t tbslen);
void ERR_clear_error(void);
int CRYPTO_memcmp(const void *a, const void *b, size_t len);
`);

/** @noSelf */
interface LibCrypto {
  d2i_PUBKEY(a: undefined, pp: FfiCData, length: number): FfiCData | undefined;
  EVP_PKEY_free: unknown;
  EVP_MD_CTX_new(): FfiCData | undefined;
  EVP_MD_CTX_reset(ctx: FfiCData): number;
  EVP_sha256(): FfiCData;
  EVP_DigestVerifyInit(ctx: FfiCData, pctx: undefined, md: FfiCData | undefined, e: undefined, pkey: FfiCData): number;
  EVP_DigestVerify(ctx: FfiCData, sig: string, siglen: number, tbs: string, tbslen: number): number;
  ERR_clear_error(): void;
  CRYPTO_memcmp(a: string, b: string, len: number): number;
}

const C = ffi.C as LibCrypto;
const cursor = ffi.new("const unsigned char *[1]") as unknown as { [i: number]: FfiCData };
let ctx: FfiCData | undefined;
let sha256: FfiCData | undefined;

/** A key of the set (the handle core/jwk.ts keeps), freed when the set that holds it is dropped. */
export function loadPublicKey(this: void, der: string, _alg: KeyAlg): unknown {
  cursor[0] = ffi.cast("const unsigned char *", der);
  const pkey = C.d2i_PUBKEY(undefined, cursor as unknown as FfiCData, der.length);
  // A NULL pointer compares equal to nil in LuaJIT.
  if (pkey === undefined) {
    C.ERR_clear_error();
    return undefined;
  }
  return ffi.gc(pkey, C.EVP_PKEY_free);
}

/** Whether `signature` over `data` verifies with `handle` (SHA-256; none for EdDSA). */
export function verifySignature(this: void, handle: unknown, alg: string, data: string, signature: string): boolean {
  if (ctx === undefined) {
    ctx = C.EVP_MD_CTX_new();
    sha256 = C.EVP_sha256();
    if (ctx === undefined) return false;
  }
  const ok =
    C.EVP_DigestVerifyInit(ctx, undefined, alg === "EdDSA" ? undefined : sha256, undefined, handle as FfiCData) === 1 &&
    C.EVP_DigestVerify(ctx, signature, signature.length, data, data.length) === 1;
  C.EVP_MD_CTX_reset(ctx);
  if (!ok) C.ERR_clear_error();
  return ok;
}

/** Whether a and b are equal, in time that depends on their length only (CRYPTO_memcmp). */
export function constantTimeEquals(this: void, a: string, b: string): boolean {
  return a.length === b.length && C.CRYPTO_memcmp(a, b, a.length) === 0;
}
