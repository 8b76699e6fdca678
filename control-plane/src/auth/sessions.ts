/**
 * Sessions of the admin UI: a random id in an HttpOnly, SameSite=Strict cookie (Secure behind
 * TLS: FS_ADMIN_COOKIE_SECURE), and a per-session CSRF token that every state-changing request
 * must echo in a header. Stored in Postgres (admin_sessions, by a digest of the id), so every
 * control-plane instance knows them and a restart logs nobody out. Each belongs to an operator,
 * an API token or the bootstrap credential, and is read with its owner on every request: a
 * disabled or deleted operator, a deleted or expired token, a bootstrap turned off end it.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Request, Response } from "express";
import type { Pool } from "@flash-sale/node-common";
import { BOOTSTRAP_NAME, actorOf, type Identity } from "./identity";
import type { Role } from "./roles";

export const SESSION_COOKIE = "fs_admin_session";
export const CSRF_HEADER = "x-csrf-token";
const SESSION_TTL_MS = 12 * 3600_000;

export interface AdminSession {
  csrfToken: string;
  expiresAtMs: number;
  identity: Identity;
}

export interface SessionView {
  id: string;
  /** The operator's name, `token:<name>` or `bootstrap`. */
  actor: string;
  address: string;
  createdAt: string;
  expiresAt: string;
}

export type SessionOwner = { kind: "operator"; operatorId: number } | { kind: "token"; tokenId: number } | { kind: "bootstrap" };

interface SessionRow {
  id: string; // bigint
  csrf_token: string;
  expires_at: Date;
  operator_id: string | null;
  operator_name: string | null;
  operator_role: Role | null;
  disabled: boolean | null;
  token_id: string | null;
  token_name: string | null;
  token_role: Role | null;
  token_live: boolean | null;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Constant time, whatever the lengths. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

export function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

const SESSION_SELECT = `SELECT s.id, s.csrf_token, s.expires_at,
       s.operator_id, o.name AS operator_name, o.role AS operator_role, o.disabled,
       s.token_id, t.name AS token_name, t.role AS token_role, t.expires_at > now() AS token_live
  FROM admin_sessions s
  LEFT JOIN operators o ON o.id = s.operator_id
  LEFT JOIN api_tokens t ON t.id = s.token_id`;

export class AdminSessions {
  constructor(
    private readonly pool: Pool,
    /** FS_ADMIN_TOKEN is set: its sessions hold. */
    private readonly bootstrapEnabled: boolean,
    private readonly secureCookies: boolean,
  ) {}

  private identity(row: SessionRow): Identity | undefined {
    const sessionId = Number(row.id);
    if (row.operator_id !== null) {
      if (row.disabled === true || row.operator_name === null) return undefined;
      return { kind: "operator", operatorId: Number(row.operator_id), name: row.operator_name, role: row.operator_role!, sessionId };
    }
    if (row.token_id !== null) {
      if (row.token_live !== true) return undefined;
      return { kind: "token", tokenId: Number(row.token_id), name: row.token_name!, role: row.token_role!, sessionId };
    }
    return this.bootstrapEnabled ? { kind: "bootstrap", name: BOOTSTRAP_NAME, role: "admin", sessionId } : undefined;
  }

  /** Starts a session of `owner` and sets its cookie. */
  async start(res: Response, owner: SessionOwner, address: string): Promise<void> {
    // Sessions never used again would otherwise stay forever.
    await this.pool.query("DELETE FROM admin_sessions WHERE expires_at <= now()");
    const id = randomBytes(32).toString("base64url");
    await this.pool.query(
      "INSERT INTO admin_sessions (id_digest, csrf_token, expires_at, operator_id, token_id, address) VALUES ($1, $2, $3, $4, $5, $6)",
      [
        sha256(id),
        randomBytes(32).toString("base64url"),
        new Date(Date.now() + SESSION_TTL_MS),
        owner.kind === "operator" ? owner.operatorId : null,
        owner.kind === "token" ? owner.tokenId : null,
        address,
      ],
    );
    res.cookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: "strict", secure: this.secureCookies, path: "/admin", maxAge: SESSION_TTL_MS });
  }

  /** The request's live session, if any, with its owner as it is now. */
  async find(req: Request): Promise<AdminSession | undefined> {
    const id = cookieValue(req, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const { rows } = await this.pool.query<SessionRow>(`${SESSION_SELECT} WHERE s.id_digest = $1 AND s.expires_at > now()`, [sha256(id)]);
    const row = rows[0];
    const identity = row === undefined ? undefined : this.identity(row);
    return identity === undefined ? undefined : { csrfToken: row!.csrf_token, expiresAtMs: row!.expires_at.getTime(), identity };
  }

  /** Every live session, newest first. */
  async list(): Promise<SessionView[]> {
    const { rows } = await this.pool.query<SessionRow & { address: string; created_at: Date }>(
      `${SESSION_SELECT.replace("SELECT ", "SELECT s.address, s.created_at, ")} WHERE s.expires_at > now() ORDER BY s.id DESC`,
    );
    const views: SessionView[] = [];
    for (const row of rows) {
      const identity = this.identity(row);
      if (identity === undefined) continue;
      views.push({ id: row.id, actor: actorOf(identity), address: row.address, createdAt: row.created_at.toISOString(), expiresAt: row.expires_at.toISOString() });
    }
    return views;
  }

  /** Ends a session by its listed id, on every instance at once. */
  async revoke(id: string): Promise<boolean> {
    if (!/^\d{1,18}$/.test(id)) return false;
    return ((await this.pool.query("DELETE FROM admin_sessions WHERE id = $1", [id])).rowCount ?? 0) > 0;
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
