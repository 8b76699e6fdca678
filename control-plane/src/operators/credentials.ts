/** Local accounts' secrets: argon2id password hashes and TOTP (RFC 6238, 30 s, 6 digits). */
import { hash, verify } from "@node-rs/argon2";
import { Secret, TOTP } from "otpauth";

export const TOTP_ISSUER = "Flash-sale admin";

/** @node-rs/argon2's default is argon2id (OWASP's parameters: 19 MiB, 2 passes). */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function passwordMatches(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secret: string, label: string): TOTP {
  return new TOTP({ issuer: TOTP_ISSUER, label, secret: Secret.fromBase32(secret) });
}

/** The otpauth:// URI an authenticator app scans. */
export function totpUri(secret: string, label: string): string {
  return totp(secret, label).toString();
}

/** The code of now, or of the 30 s step before or after (clock drift). */
export function totpMatches(secret: string, code: string): boolean {
  return /^\d{6}$/.test(code) && totp(secret, "").validate({ token: code, window: 1 }) !== null;
}
