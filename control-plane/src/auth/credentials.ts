/** Local accounts' secrets: argon2id password hashes and TOTP (RFC 6238, 30 s, 6 digits). */
import { randomBytes } from "node:crypto";
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

let decoy: Promise<string> | undefined;

/** A hash of nobody's password, made with the same parameters as every other. */
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(32).toString("base64url"));
  return decoy;
}

/**
 * For a sign-in with no password to check (no such account, a disabled one, one without a
 * password): the same argon2 work as a wrong password, so that the answer's time does not tell
 * which names exist.
 */
export async function noPasswordMatches(password: string): Promise<false> {
  await passwordMatches(await decoyHash(), password);
  return false;
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

/**
 * The time step (30 s since the epoch) of `code` when it is the code of now, or of the step
 * before or after (clock drift); undefined when it is none of them. Each step is taken once
 * (OperatorStore.takeTotpStep).
 */
export function totpStep(secret: string, code: string, nowMs = Date.now()): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const otp = totp(secret, "");
  const delta = otp.validate({ token: code, window: 1, timestamp: nowMs });
  return delta === null ? undefined : otp.counter({ timestamp: nowMs }) + delta;
}
