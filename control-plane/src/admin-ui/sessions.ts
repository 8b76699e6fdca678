/**
 * Sessions of the admin UI: a random id in an HttpOnly, SameSite=Strict cookie, and a
 * per-session CSRF token that every state-changing request must echo in a header. Stored in
 * Postgres (admin_sessions, by a digest of the id), so every control-plane instance knows
 * them and a restart logs nobody out.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Request, Response } from "express";
import type { Pool } from "@flash-sale/node-common";

export const SESSION_COOKIE = "fs_admin_session";
export const CSRF_HEADER = "x-csrf-token";
const SESSION_TTL_MS = 12 * 3600_000;

export interface AdminSession {
  csrfToken: string;
  expiresAtMs: number;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Constant time, whatever the lengths. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

export class AdminSessions {
  constructor(private readonly pool: Pool) {}

  /** Starts a session and sets its cookie. */
  async start(res: Response): Promise<AdminSession> {
    // Sessions never used again would otherwise stay forever.
    await this.pool.query("DELETE FROM admin_sessions WHERE expires_at <= now()");
    const id = randomBytes(32).toString("base64url");
    const session = { csrfToken: randomBytes(32).toString("base64url"), expiresAtMs: Date.now() + SESSION_TTL_MS };
    await this.pool.query("INSERT INTO admin_sessions (id_digest, csrf_token, expires_at) VALUES ($1, $2, $3)", [
      sha256(id),
      session.csrfToken,
      new Date(session.expiresAtMs),
    ]);
    res.cookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: "strict", path: "/admin", maxAge: SESSION_TTL_MS });
    return session;
  }

  /** The request's live session, if any. */
  async find(req: Request): Promise<AdminSession | undefined> {
    const id = cookieValue(req, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const { rows } = await this.pool.query<{ csrf_token: string; expires_at: Date }>(
      "SELECT csrf_token, expires_at FROM admin_sessions WHERE id_digest = $1 AND expires_at > now()",
      [sha256(id)],
    );
    const row = rows[0];
    return row === undefined ? undefined : { csrfToken: row.csrf_token, expiresAtMs: row.expires_at.getTime() };
  }

  async end(req: Request, res: Response): Promise<void> {
    const id = cookieValue(req, SESSION_COOKIE);
    if (id !== undefined) await this.pool.query("DELETE FROM admin_sessions WHERE id_digest = $1", [sha256(id)]);
    res.clearCookie(SESSION_COOKIE, { path: "/admin" });
  }
}

/** Reads (GET, HEAD) need the session only; anything else also its CSRF token. */
export function sessionAllows(req: Request, session: AdminSession): boolean {
  if (req.method === "GET" || req.method === "HEAD") return true;
  return sameSecret(req.get(CSRF_HEADER) ?? "", session.csrfToken);
}
