/**
 * Failed sign-ins, counted by client address and by account (table admin_login_failures, by
 * Postgres' clock, so N control-plane instances allow no more guesses than one). Past a
 * threshold each further failure doubles the wait before the next try (to a cap), and a try
 * held back is refused unchecked. A correct credential is never locked out by others' failures:
 * a browser that signed in to an account before holds a device cookie (OWASP's device cookies)
 * that the account's and the address's counts do not hold back; a failure with it drops it.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Request, Response } from "express";
import type { Pool } from "@flash-sale/node-common";
import { cookieValue } from "./sessions";

export interface LoginThrottleOptions {
  /** Failures from one address, and on one account, before the backoff starts. */
  addressThreshold: number;
  accountThreshold: number;
  /** The first wait, doubled by each further failure, up to the cap; failures older than the window are forgotten. */
  baseWaitMs: number;
  maxWaitMs: number;
  windowMs: number;
}

export const LOGIN_THROTTLE_DEFAULTS: LoginThrottleOptions = {
  addressThreshold: 10,
  accountThreshold: 5,
  baseWaitMs: 1000,
  maxWaitMs: 15 * 60_000,
  windowMs: 60 * 60_000,
};

export const DEVICE_COOKIE = "fs_admin_device";
const DEVICE_TTL_MS = 30 * 86400_000;

/** Seconds still to wait after `failures` failures, the latest `latestAgeMs` ago; 0: may try now. */
export function waitSeconds(failures: number, threshold: number, latestAgeMs: number, opts: LoginThrottleOptions): number {
  if (failures < threshold) return 0;
  const waitMs = Math.min(opts.maxWaitMs, opts.baseWaitMs * 2 ** (failures - threshold));
  return Math.max(0, Math.ceil((waitMs - latestAgeMs) / 1000));
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

export class LoginThrottle {
  constructor(
    private readonly pool: Pool,
    private readonly opts: LoginThrottleOptions = LOGIN_THROTTLE_DEFAULTS,
    private readonly secureCookies = false,
  ) {}

  /** Whether the request holds a device cookie of this account. */
  private async knownDevice(req: Request, account: string): Promise<boolean> {
    const device = cookieValue(req, DEVICE_COOKIE);
    if (device === undefined) return false;
    const { rowCount } = await this.pool.query("SELECT 1 FROM admin_login_devices WHERE device_digest = $1 AND account = $2 AND expires_at > now()", [
      digest(device),
      account,
    ]);
    return (rowCount ?? 0) > 0;
  }

  /** Seconds the try must wait; 0 when it may be checked now. Account "": none named (a token), the address counts alone. */
  async retryAfterSeconds(req: Request, address: string, account: string): Promise<number> {
    if (await this.knownDevice(req, account)) return 0;
    const { rows } = await this.pool.query<{ by_address: number; address_age_ms: number | null; by_account: number; account_age_ms: number | null }>(
      `SELECT count(*) FILTER (WHERE address = $1)::int AS by_address,
              (EXTRACT(EPOCH FROM now() - max(failed_at) FILTER (WHERE address = $1)) * 1000)::float8 AS address_age_ms,
              count(*) FILTER (WHERE account = $2 AND $2 <> '')::int AS by_account,
              (EXTRACT(EPOCH FROM now() - max(failed_at) FILTER (WHERE account = $2 AND $2 <> '')) * 1000)::float8 AS account_age_ms
         FROM admin_login_failures
        WHERE failed_at > now() - make_interval(secs => $3) AND (address = $1 OR account = $2)`,
      [address, account, this.opts.windowMs / 1000],
    );
    const row = rows[0]!;
    return Math.max(
      waitSeconds(row.by_address, this.opts.addressThreshold, row.address_age_ms ?? 0, this.opts),
      waitSeconds(row.by_account, this.opts.accountThreshold, row.account_age_ms ?? 0, this.opts),
    );
  }

  async recordFailure(req: Request, address: string, account: string): Promise<void> {
    await this.pool.query("DELETE FROM admin_login_failures WHERE failed_at <= now() - make_interval(secs => $1)", [this.opts.windowMs / 1000]);
    await this.pool.query("INSERT INTO admin_login_failures (address, account) VALUES ($1, $2)", [address, account]);
    const device = cookieValue(req, DEVICE_COOKIE);
    if (device !== undefined) await this.pool.query("DELETE FROM admin_login_devices WHERE device_digest = $1", [digest(device)]);
  }

  /**
   * A correct credential clears its account's count from this address (unless it came past the
   * count with a device cookie: others' failures stay counted) and marks the browser as a known device.
   */
  async recordSuccess(req: Request, res: Response, address: string, account: string): Promise<void> {
    if (!(await this.knownDevice(req, account))) {
      await this.pool.query("DELETE FROM admin_login_failures WHERE address = $1 AND account = $2", [address, account]);
    }
    await this.pool.query("DELETE FROM admin_login_devices WHERE expires_at <= now()");
    const device = randomBytes(32).toString("base64url");
    await this.pool.query("INSERT INTO admin_login_devices (device_digest, account, expires_at) VALUES ($1, $2, $3)", [
      digest(device),
      account,
      new Date(Date.now() + DEVICE_TTL_MS),
    ]);
    res.cookie(DEVICE_COOKIE, device, { httpOnly: true, sameSite: "strict", secure: this.secureCookies, path: "/admin", maxAge: DEVICE_TTL_MS });
  }
}
