/**
 * Operators (table operators): a name, an optional email, a role, disabled or not, and how they
 * sign in: the shop's OpenID provider (matched by subject, or by email the first time) or a
 * local account (an argon2id password hash and, required for admins, a TOTP secret, each of its
 * codes taken once).
 */
import type { Pool } from "@flash-sale/node-common";
import type { Role } from "./roles";

export interface OperatorView {
  id: string;
  name: string;
  email: string | null;
  role: Role;
  disabled: boolean;
  /** How it may sign in: a local password (with TOTP or not), the OpenID provider (bound). */
  password: boolean;
  totp: boolean;
  oidcBound: boolean;
  createdAt: string;
}

export interface OperatorRecord extends OperatorView {
  passwordHash: string | null;
  totpSecret: string | null;
}

interface Row {
  id: string; // bigint
  name: string;
  email: string | null;
  role: Role;
  disabled: boolean;
  password_hash: string | null;
  totp_secret: string | null;
  oidc_subject: string | null;
  created_at: Date;
}

function record(row: Row): OperatorRecord {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role: row.role,
    disabled: row.disabled,
    password: row.password_hash !== null,
    totp: row.totp_secret !== null,
    oidcBound: row.oidc_subject !== null,
    createdAt: row.created_at.toISOString(),
    passwordHash: row.password_hash,
    totpSecret: row.totp_secret,
  };
}

export function operatorView({ passwordHash: _p, totpSecret: _t, ...view }: OperatorRecord): OperatorView {
  return view;
}

export interface OperatorFields {
  name: string;
  email: string | null;
  role: Role;
  disabled: boolean;
  passwordHash: string | null;
  totpSecret: string | null;
}

const ID = /^\d{1,18}$/;
/** Postgres' unique_violation. */
export const UNIQUE_VIOLATION = "23505";

export class OperatorStore {
  constructor(private readonly pool: Pool) {}

  async list(): Promise<OperatorView[]> {
    const { rows } = await this.pool.query<Row>("SELECT * FROM operators ORDER BY name");
    return rows.map((r) => operatorView(record(r)));
  }

  async find(id: string): Promise<OperatorRecord | undefined> {
    if (!ID.test(id)) return undefined;
    const { rows } = await this.pool.query<Row>("SELECT * FROM operators WHERE id = $1", [id]);
    return rows[0] === undefined ? undefined : record(rows[0]);
  }

  /** By name or email (case-insensitive), for the local sign-in. */
  async findByLogin(login: string): Promise<OperatorRecord | undefined> {
    const { rows } = await this.pool.query<Row>("SELECT * FROM operators WHERE name = $1 OR lower(email) = lower($1) ORDER BY name = $1 DESC LIMIT 1", [login]);
    return rows[0] === undefined ? undefined : record(rows[0]);
  }

  /** The provider's subject, else an operator with that email not bound to another subject (bound now). */
  async findByOidc(subject: string, email: string | undefined): Promise<OperatorRecord | undefined> {
    const bySubject = await this.pool.query<Row>("SELECT * FROM operators WHERE oidc_subject = $1", [subject]);
    if (bySubject.rows[0] !== undefined) return record(bySubject.rows[0]);
    if (email === undefined) return undefined;
    const { rows } = await this.pool.query<Row>(
      "UPDATE operators SET oidc_subject = $1 WHERE lower(email) = lower($2) AND oidc_subject IS NULL RETURNING *",
      [subject, email],
    );
    return rows[0] === undefined ? undefined : record(rows[0]);
  }

  /** Undefined when the name or email is taken. */
  async insert(fields: OperatorFields): Promise<OperatorRecord | undefined> {
    try {
      const { rows } = await this.pool.query<Row>(
        "INSERT INTO operators (name, email, role, disabled, password_hash, totp_secret) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        [fields.name, fields.email, fields.role, fields.disabled, fields.passwordHash, fields.totpSecret],
      );
      return record(rows[0]!);
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) return undefined;
      throw err;
    }
  }

  /** Undefined when the new email is taken. A disabled operator's sessions end with the change. */
  async update(id: string, fields: Omit<OperatorFields, "name">): Promise<OperatorRecord | undefined> {
    try {
      const { rows } = await this.pool.query<Row>(
        // A new TOTP secret starts with no step taken.
        `UPDATE operators SET email = $2, role = $3, disabled = $4, password_hash = $5, totp_secret = $6,
           totp_last_step = CASE WHEN totp_secret IS DISTINCT FROM $6 THEN NULL ELSE totp_last_step END
         WHERE id = $1 RETURNING *`,
        [id, fields.email, fields.role, fields.disabled, fields.passwordHash, fields.totpSecret],
      );
      if (fields.disabled) await this.pool.query("DELETE FROM admin_sessions WHERE operator_id = $1", [id]);
      return rows[0] === undefined ? undefined : record(rows[0]);
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) return undefined;
      throw err;
    }
  }

  /**
   * Records that the operator signed in with a TOTP code of `step`: false when it did with one of
   * that step or a later one before (a code seen, replayed), on any instance.
   */
  async takeTotpStep(id: string, step: number): Promise<boolean> {
    const { rowCount } = await this.pool.query("UPDATE operators SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)", [id, step]);
    return (rowCount ?? 0) > 0;
  }

  /** The role a provider's claim names, written at sign-in. */
  async setRole(id: string, role: Role): Promise<void> {
    await this.pool.query("UPDATE operators SET role = $2 WHERE id = $1", [id, role]);
  }

  /** Its sessions end with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<boolean> {
    if (!ID.test(id)) return false;
    return ((await this.pool.query("DELETE FROM operators WHERE id = $1", [id])).rowCount ?? 0) > 0;
  }
}
