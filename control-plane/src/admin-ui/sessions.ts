/**
 * Sessions of the admin UI, in memory (one control plane; a restart asks for a new login): a
 * random id in an HttpOnly, SameSite=Strict cookie, and a per-session CSRF token that every
 * state-changing request must echo in a header.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Request, Response } from "express";

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
  private readonly sessions = new Map<string, AdminSession>();

  /** Starts a session and sets its cookie. */
  start(res: Response): AdminSession {
    // Sessions never used again would otherwise stay forever.
    for (const [id, s] of this.sessions) if (s.expiresAtMs <= Date.now()) this.sessions.delete(id);
    const id = randomBytes(32).toString("base64url");
    const session = { csrfToken: randomBytes(32).toString("base64url"), expiresAtMs: Date.now() + SESSION_TTL_MS };
    this.sessions.set(id, session);
    res.cookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: "strict", path: "/admin", maxAge: SESSION_TTL_MS });
    return session;
  }

  /** The request's live session, if any. */
  find(req: Request): AdminSession | undefined {
    const id = cookieValue(req, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined || session.expiresAtMs <= Date.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  end(req: Request, res: Response): void {
    const id = cookieValue(req, SESSION_COOKIE);
    if (id !== undefined) this.sessions.delete(id);
    res.clearCookie(SESSION_COOKIE, { path: "/admin" });
  }
}

/** Reads (GET, HEAD) need the session only; anything else also its CSRF token. */
export function sessionAllows(req: Request, session: AdminSession): boolean {
  if (req.method === "GET" || req.method === "HEAD") return true;
  return sameSecret(req.get(CSRF_HEADER) ?? "", session.csrfToken);
}
