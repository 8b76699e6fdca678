/**
 * API tokens for people and services (table api_tokens): a random secret shown once, kept as
 * its SHA-256 digest only, with a role, an expiry and when it was last used. Each use reads
 * Postgres, so a deleted token is refused at once by every control-plane instance.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Pool } from "@flash-sale/node-common";
import type { Role } from "./roles";

/** Tokens start with it, so that a leaked one is recognisable (secret scanners). */
export const TOKEN_PREFIX = "fsa_";

export interface ApiTokenView {
  id: string;
  name: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
}

interface Row {
  id: string; // bigint
  name: string;
  role: Role;
  created_by: string;
  created_at: Date;
  expires_at: Date;
  last_used_at: Date | null;
}

function view(row: Row): ApiTokenView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}

export function tokenDigest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

export class ApiTokens {
  constructor(private readonly pool: Pool) {}

  /** A new token: its view and the secret, which is not kept. */
  async create(name: string, role: Role, expiresInDays: number, createdBy: string): Promise<ApiTokenView & { token: string }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
    const { rows } = await this.pool.query<Row>(
      `INSERT INTO api_tokens (name, role, token_digest, created_by, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(days => $5)) RETURNING *`,
      [name, role, tokenDigest(token), createdBy, expiresInDays],
    );
    return { ...view(rows[0]!), token };
  }

  async list(): Promise<ApiTokenView[]> {
    const { rows } = await this.pool.query<Row>("SELECT * FROM api_tokens ORDER BY id");
    return rows.map(view);
  }

  async find(id: string): Promise<ApiTokenView | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const { rows } = await this.pool.query<Row>("SELECT * FROM api_tokens WHERE id = $1", [id]);
    return rows[0] === undefined ? undefined : view(rows[0]);
  }

  /** Its sessions end with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<boolean> {
    if (!/^\d{1,18}$/.test(id)) return false;
    return ((await this.pool.query("DELETE FROM api_tokens WHERE id = $1", [id])).rowCount ?? 0) > 0;
  }

  /** The live token with this secret, its use recorded; undefined when unknown or expired. */
  async authenticate(token: string): Promise<{ id: number; name: string; role: Role } | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const { rows } = await this.pool.query<{ id: string; name: string; role: Role }>(
      "UPDATE api_tokens SET last_used_at = now() WHERE token_digest = $1 AND expires_at > now() RETURNING id, name, role",
      [tokenDigest(token)],
    );
    const row = rows[0];
    return row === undefined ? undefined : { id: Number(row.id), name: row.name, role: row.role };
  }
}
