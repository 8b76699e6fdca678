/** The audit trail of sales (table sale_audit): who changed what, when, from what to what. */
import type { Pool, PoolClient } from "@flash-sale/node-common";

export type AuditAction = "create" | "update" | "publish" | "pause" | "resume" | "end" | "delete" | "repair";

export interface AuditEntry {
  saleId: string;
  action: AuditAction;
  actor: string;
  /** The sale before and after the change; null before a create and after a delete. */
  before: unknown;
  after: unknown;
}

export interface RecordedAuditEntry extends AuditEntry {
  id: number;
  at: string;
}

interface AuditRow {
  id: string; // bigint
  sale_id: string;
  action: AuditAction;
  actor: string;
  at: Date;
  before: unknown;
  after: unknown;
}

/** Written in the transaction of the change it records, so there is no change without its entry. */
export async function recordAudit(db: PoolClient, entry: AuditEntry): Promise<void> {
  await db.query("INSERT INTO sale_audit (sale_id, action, actor, before, after) VALUES ($1, $2, $3, $4, $5)", [
    entry.saleId,
    entry.action,
    entry.actor,
    entry.before === null ? null : JSON.stringify(entry.before),
    entry.after === null ? null : JSON.stringify(entry.after),
  ]);
}

/** A sale's trail, oldest first (also of a deleted sale). */
export async function readAudit(pool: Pool, saleId: string): Promise<RecordedAuditEntry[]> {
  const result = await pool.query<AuditRow>("SELECT * FROM sale_audit WHERE sale_id = $1 ORDER BY id", [saleId]);
  return result.rows.map((r) => ({
    id: Number(r.id),
    saleId: r.sale_id,
    action: r.action,
    actor: r.actor,
    at: r.at.toISOString(),
    before: r.before,
    after: r.after,
  }));
}
