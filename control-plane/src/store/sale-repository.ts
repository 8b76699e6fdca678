/** Sales in Postgres: the durable record the control plane publishes from. */
import type { Pool, PoolClient } from "@flash-sale/node-common";
import type { Deduction } from "@flash-sale/contract/sale";
import { recordAudit, type AuditAction } from "./audit-log";
import { statusesTakingUnits, type OrderStatus, type StoredOrder } from "../projection/rebuilt-state";
import { SETTINGS, type Setting } from "../sales/fields";
import type { SaleSettings } from "../sales/schema";

/** The pool, or the client of a transaction in progress. */
export type Queryable = Pool | PoolClient;

/** A sale locked for a change (SELECT … FOR UPDATE): writes go through the transaction. */
export interface LockedSale {
  sale: Sale;
  db: PoolClient;
}

/** What the record holds besides the settings: set by publishes, pauses and builds. */
interface SaleRecordState {
  paused: boolean;
  /** When the sale was first published (committed before Redis is written); null: a draft. */
  publishedAt: string | null;
  /** The config version Redis last answered for the sale; null until it answered one. */
  publishedVersion: number | null;
  /** The epoch of the sale's current Redis build (order ids `<id>.<epoch>.<n>`); 0 before the first. */
  epoch: number;
  /** Bumped by every change of the record: what Redis applied is guarded by it. */
  revision: number;
  createdAt: string;
  updatedAt: string;
}

/** A stored sale, as the admin API shows it: its id, its settings (sales/fields.ts), its state. */
export type Sale = { id: string } & Omit<SaleSettings, "id"> & SaleRecordState;

/** A sale whose orders wait for payment, as the expiry and status jobs need it. */
export interface SaleTakingPayment {
  id: string;
  deduction: Deduction;
  paymentTimeoutMs: number;
}

/** Orders the order worker has written to Postgres for one sale. */
export interface PersistedOrders {
  orders: number;
  units: number;
}

interface SaleRow {
  id: string;
  paused: boolean;
  published_at: Date | null;
  published_version: string | null; // bigint
  epoch: number;
  revision: string; // bigint
  created_at: Date;
  updated_at: Date;
  /** The settings' columns (sales/fields.ts). */
  [column: string]: unknown;
}

/** A setting as its column takes it: an object as JSON, no value as NULL. */
function toColumn(setting: Setting, value: unknown): unknown {
  if (value === undefined) return null;
  return setting.type === "object" ? JSON.stringify(value) : value;
}

/** A setting as read back: a timestamp as ISO 8601 UTC, NULL as no value. */
function fromColumn(setting: Setting, raw: unknown): unknown {
  if (raw === null) return undefined;
  return setting.type === "instant" && raw instanceof Date ? raw.toISOString() : raw;
}

// The columns are the list's constants, never input.
const COLUMNS = SETTINGS.map((s) => s.column);
const INSERT = `INSERT INTO sales (id, ${COLUMNS.join(", ")})
  VALUES ($1, ${COLUMNS.map((_, i) => `$${i + 2}`).join(", ")})
  ON CONFLICT (id) DO NOTHING
  RETURNING *`;
const UPDATE = `UPDATE sales SET ${COLUMNS.map((c, i) => `${c} = $${i + 2}`).join(", ")}, revision = revision + 1, updated_at = now()
  WHERE id = $1
  RETURNING *`;

/** The settings' values in the order of COLUMNS ($2 onwards). */
function settingsColumns(s: SaleSettings): unknown[] {
  return SETTINGS.map((setting) => toColumn(setting, s[setting.name]));
}

function toSale(row: SaleRow): Sale {
  const settings = Object.fromEntries(
    SETTINGS.flatMap((setting) => {
      const value = fromColumn(setting, row[setting.column]);
      return value === undefined ? [] : [[setting.name, value]];
    }),
  ) as Omit<SaleSettings, "id">;
  return {
    id: row.id,
    ...settings,
    paused: row.paused,
    publishedAt: row.published_at === null ? null : row.published_at.toISOString(),
    publishedVersion: row.published_version === null ? null : Number(row.published_version),
    epoch: row.epoch,
    revision: Number(row.revision),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export class SaleRepository {
  constructor(private readonly pool: Pool) {}

  /** Stores a new sale and its audit entry; undefined when a sale with this id already exists. */
  async insert(id: string, s: SaleSettings, actor: string): Promise<Sale | undefined> {
    return this.inTransaction(async (db) => {
      const result = await db.query<SaleRow>(INSERT, [id, ...settingsColumns(s)]);
      const row = result.rows[0];
      if (row === undefined) return undefined;
      const sale = toSale(row);
      await recordAudit(db, { saleId: id, action: "create", actor, before: null, after: sale });
      return sale;
    });
  }

  /**
   * Runs `change` on the sale locked FOR UPDATE in one transaction, so that changes of one
   * sale (and their publishes) happen one after the other; commits unless `change` throws.
   * Undefined when there is no such sale. `lockWaitMs`, shorter than the session's lock
   * timeout: the longest wait for the row (then a lock_not_available error, SQLSTATE 55P03).
   */
  async withLockedSale<T>(id: string, change: (locked: LockedSale) => Promise<T>, lockWaitMs?: number): Promise<T | undefined> {
    return this.inTransaction(async (db) => {
      if (lockWaitMs !== undefined) await db.query("SELECT set_config('lock_timeout', $1, true)", [`${lockWaitMs}ms`]);
      const result = await db.query<SaleRow>("SELECT * FROM sales WHERE id = $1 FOR UPDATE", [id]);
      const row = result.rows[0];
      return row === undefined ? undefined : change({ sale: toSale(row), db });
    });
  }

  /** Replaces the settings of a locked sale and records the change; returns the sale as stored. */
  async update(locked: LockedSale, s: SaleSettings, actor: string): Promise<Sale> {
    const result = await locked.db.query<SaleRow>(UPDATE, [locked.sale.id, ...settingsColumns(s)]);
    return this.recordChange(locked, result.rows[0], "update", actor);
  }

  async setPaused(locked: LockedSale, paused: boolean, actor: string): Promise<Sale> {
    const result = await locked.db.query<SaleRow>(
      "UPDATE sales SET paused = $2, revision = revision + 1, updated_at = now() WHERE id = $1 RETURNING *",
      [locked.sale.id, paused],
    );
    return this.recordChange(locked, result.rows[0], paused ? "pause" : "resume", actor);
  }

  async setEndsAt(locked: LockedSale, endsAt: Date, actor: string): Promise<Sale> {
    const result = await locked.db.query<SaleRow>(
      "UPDATE sales SET ends_at = $2, revision = revision + 1, updated_at = now() WHERE id = $1 RETURNING *",
      [locked.sale.id, endsAt],
    );
    return this.recordChange(locked, result.rows[0], "end", actor);
  }

  /**
   * Publishes the locked sale: a draft's first publish moves it to scheduled; a publish of a
   * published sale is a new revision, applied again in full (a repair).
   */
  async recordPublish(locked: LockedSale, actor: string): Promise<Sale> {
    const result = await locked.db.query<SaleRow>(
      `UPDATE sales SET published_at = COALESCE(published_at, now()), revision = revision + 1, updated_at = now()
        WHERE id = $1 RETURNING *`,
      [locked.sale.id],
    );
    return this.recordChange(locked, result.rows[0], "publish", actor);
  }

  /** Units the sale's orders in Postgres take, by their status (the deduction decides which). */
  async unitsTaken(db: Queryable, sale: Pick<Sale, "id" | "deduction">): Promise<number> {
    const result = await db.query<{ units: number }>(
      "SELECT COALESCE(sum(quantity), 0)::int AS units FROM orders WHERE sale_id = $1 AND status = ANY($2)",
      [sale.id, statusesTakingUnits(sale.deduction)],
    );
    return result.rows[0]?.units ?? 0;
  }

  /** A new epoch for a build of a sale's Redis state: from a sequence, so never issued twice. */
  async issueEpoch(db: Queryable): Promise<number> {
    const result = await db.query<{ epoch: string }>("SELECT nextval('sale_epochs') AS epoch");
    return Number(result.rows[0]!.epoch);
  }

  /** Every order of the sale in Postgres, for a rebuild (under the sale's lock: no insert slips in). */
  async ordersOfSale(db: Queryable, saleId: string): Promise<StoredOrder[]> {
    const result = await db.query<{ epoch: number; order_no: string; user_id: string; quantity: number; status: OrderStatus; accepted_at: Date; price: string; currency: string }>(
      "SELECT epoch, order_no, user_id, quantity, status, accepted_at, price, currency FROM orders WHERE sale_id = $1",
      [saleId],
    );
    return result.rows.map((r) => ({
      epoch: r.epoch,
      orderNo: Number(r.order_no),
      userId: r.user_id,
      quantity: r.quantity,
      acceptedAtMs: r.accepted_at.getTime(),
      status: r.status,
      price: Number(r.price),
      currency: r.currency,
    }));
  }

  /** Records a build of the locked sale's Redis state; a rebuild is audited as a repair. */
  async recordBuild(locked: LockedSale, epoch: number, reason: string, details: object): Promise<void> {
    await locked.db.query("UPDATE sales SET epoch = $2 WHERE id = $1", [locked.sale.id, epoch]);
    if (reason === "first_build") return;
    await recordAudit(locked.db, { saleId: locked.sale.id, action: "repair", actor: "control-plane", before: null, after: details });
  }

  /** The highest order number Postgres holds for each of the sales (those with orders). */
  async highestOrderNumbers(saleIds: string[]): Promise<Map<string, number>> {
    const result = await this.pool.query<{ sale_id: string; n: string }>(
      "SELECT sale_id, max(order_no) AS n FROM orders WHERE sale_id = ANY($1) GROUP BY sale_id",
      [saleIds],
    );
    return new Map(result.rows.map((r) => [r.sale_id, Number(r.n)]));
  }

  /** The highest order number in Postgres of each bucket's class (core/buckets.ts), bucket 0 first; 0 where none. */
  async highestOrderNumbersByBucket(saleId: string, buckets: number): Promise<number[]> {
    const result = await this.pool.query<{ b: number; n: string }>(
      "SELECT ((order_no - 1) % $2)::int AS b, max(order_no) AS n FROM orders WHERE sale_id = $1 GROUP BY 1",
      [saleId, buckets],
    );
    const highest = Array.from({ length: buckets }, () => 0);
    for (const r of result.rows) highest[r.b] = Number(r.n);
    return highest;
  }

  async delete(locked: LockedSale, actor: string): Promise<void> {
    await locked.db.query("DELETE FROM sales WHERE id = $1", [locked.sale.id]);
    await locked.db.query("DELETE FROM sale_reconciliation WHERE sale_id = $1", [locked.sale.id]);
    await recordAudit(locked.db, { saleId: locked.sale.id, action: "delete", actor, before: locked.sale, after: null });
  }

  private async recordChange(locked: LockedSale, row: SaleRow | undefined, action: AuditAction, actor: string): Promise<Sale> {
    if (row === undefined) throw new Error(`sale ${locked.sale.id} vanished while locked`);
    const after = toSale(row);
    await recordAudit(locked.db, { saleId: after.id, action, actor, before: locked.sale, after });
    return after;
  }

  private async inTransaction<T>(work: (db: PoolClient) => Promise<T>): Promise<T> {
    const db = await this.pool.connect();
    try {
      await db.query("BEGIN");
      const result = await work(db);
      await db.query("COMMIT");
      return result;
    } catch (err) {
      await db.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      db.release();
    }
  }

  async find(id: string): Promise<Sale | undefined> {
    const result = await this.pool.query<SaleRow>("SELECT * FROM sales WHERE id = $1", [id]);
    const row = result.rows[0];
    return row === undefined ? undefined : toSale(row);
  }

  /** Every sale, the soonest to start first. */
  async list(): Promise<Sale[]> {
    const result = await this.pool.query<SaleRow>("SELECT * FROM sales ORDER BY starts_at, id");
    return result.rows.map(toSale);
  }

  /** Published sales that had not ended at sinceMs, with their revisions: the sales kept in Redis. */
  async publishedEndingAfter(sinceMs: number): Promise<{ id: string; revision: number; stockBuckets: number }[]> {
    const result = await this.pool.query<{ id: string; revision: string; stock_buckets: number }>(
      "SELECT id, revision, stock_buckets FROM sales WHERE published_at IS NOT NULL AND ends_at > $1 ORDER BY starts_at, id",
      [new Date(sinceMs)],
    );
    return result.rows.map((r) => ({ id: r.id, revision: Number(r.revision), stockBuckets: r.stock_buckets }));
  }

  /**
   * Published sales that take payments (`reserve`, `payment`) and had not ended at sinceMs,
   * with their deduction and payment timeout.
   */
  async publishedTakingPaymentEndingAfter(sinceMs: number): Promise<SaleTakingPayment[]> {
    const result = await this.pool.query<{ id: string; deduction: Deduction; payment_timeout_seconds: number }>(
      `SELECT id, deduction, payment_timeout_seconds FROM sales
        WHERE published_at IS NOT NULL AND deduction IN ('reserve', 'payment') AND ends_at > $1
        ORDER BY starts_at, id`,
      [new Date(sinceMs)],
    );
    return result.rows.map((r) => ({ id: r.id, deduction: r.deduction, paymentTimeoutMs: r.payment_timeout_seconds * 1000 }));
  }

  /**
   * Records a published version; a slower concurrent publish never moves it back. False when the
   * sale is gone (the update waits for a delete in progress).
   */
  async recordPublishedVersion(id: string, version: number, db: Queryable = this.pool): Promise<boolean> {
    const result = await db.query("UPDATE sales SET published_version = GREATEST(published_version, $2) WHERE id = $1", [id, version]);
    return result.rowCount === 1;
  }

  async persistedOrders(saleId: string, db: Queryable = this.pool): Promise<PersistedOrders> {
    const result = await db.query<PersistedOrders>(
      "SELECT count(*)::int AS orders, COALESCE(sum(quantity), 0)::int AS units FROM orders WHERE sale_id = $1",
      [saleId],
    );
    return result.rows[0] ?? { orders: 0, units: 0 };
  }
}
