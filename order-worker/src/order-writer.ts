/**
 * Writes a batch of orders to Postgres: one multi-row INSERT in one transaction. When some are
 * there already, the batch is written again with ON CONFLICT DO NOTHING and each row is told
 * apart: a redelivery (the row in Postgres is this order: same order id, user and request id)
 * is a no-op, which is what makes acknowledging after the commit safe; a collision (another
 * order holds its order id or its (sale, user, user_units)) is set aside in order_dead_letters
 * by the same transaction. A row Postgres refuses (SQLSTATE class 22 or 23) fails only the
 * transaction it is in: the batch is halved until that row is alone, so the others commit.
 */
import type { Pool, PoolClient } from "@flash-sale/node-common";
import type { OrderRow } from "./order-entry";
import { eventColumns, insertOrderEvents } from "./order-events";

const ROWS = `
FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::text[], $6::int[], $7::int[], $8::text[], $9::bigint[],
  $10::bigint[], $11::text[])
  AS t(o, s, e, n, u, uu, q, r, at, p, c)`;
/**
 * An entry written before orders carried their price takes its sale's (COALESCE reads the sale
 * only for those). Each row inserted gets its order.confirmed event in the webhook outbox by
 * the same statement; the row count is the orders inserted.
 */
function insertOrders(onConflict: string): string {
  return `
WITH inserted AS (
INSERT INTO orders (order_id, sale_id, epoch, order_no, user_id, user_units, quantity, request_id, accepted_at, price, currency)
SELECT o, s, e, n, u, uu, q, r, timestamptz 'epoch' + at * interval '1 millisecond',
  COALESCE(p, (SELECT price FROM sales WHERE id = s)), COALESCE(c, (SELECT currency FROM sales WHERE id = s)) ${ROWS}
${onConflict} RETURNING ${eventColumns("orders")})
${insertOrderEvents("inserted")}`;
}
const INSERT_ORDERS = insertOrders("");
const INSERT_MISSING_ORDERS = insertOrders("ON CONFLICT DO NOTHING");
/** The orders holding a unique key of the rows: their order id, (sale, user, user_units) or (sale, epoch, order_no). */
const COLUMNS = "o.order_id, o.sale_id, o.epoch, o.order_no, o.user_id, o.user_units, o.request_id";
const HOLDERS = `
WITH k AS (SELECT * ${ROWS})
SELECT ${COLUMNS} FROM orders o JOIN k ON o.order_id = k.o
UNION SELECT ${COLUMNS} FROM orders o JOIN k ON (o.sale_id, o.user_id, o.user_units) = (k.s, k.u, k.uu)
UNION SELECT ${COLUMNS} FROM orders o JOIN k ON (o.sale_id, o.epoch, o.order_no) = (k.s, k.e, k.n)`;
const INSERT_DEAD_LETTERS = `
INSERT INTO order_dead_letters (sale_id, entry_id, reason, detail, deliveries, conflicting_order_id,
  order_id, order_no, user_id, user_units, quantity, request_id, accepted_at_ms)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[],
  $7::text[], $8::bigint[], $9::text[], $10::int[], $11::int[], $12::text[], $13::bigint[])
ON CONFLICT (sale_id, entry_id) DO NOTHING`;
const UNIQUE_VIOLATION = "23505";

/** An order in Postgres that holds a key of the row being written. */
export interface Holder {
  orderId: string;
  userId: string;
  requestId: string | null;
}

export interface Collision {
  row: OrderRow;
  holder: Holder;
}

export interface Refusal {
  row: OrderRow;
  /** SQLSTATE and message. */
  error: string;
}

export interface WriteResult {
  /** Rows in Postgres as their entries' orders (inserted now, or by an earlier delivery): to confirm. */
  written: OrderRow[];
  /** Of those, the rows new to Postgres. */
  inserted: number;
  /** Rows another order's keys kept out: set aside in order_dead_letters, not written. */
  collisions: Collision[];
  /** Rows Postgres refused on their own: not written. */
  refused: Refusal[];
  /** Sales Postgres has no row for: their orders were not written (the FK would fail the batch). */
  unknownSales: string[];
}

export interface DeadLetter {
  row: OrderRow;
  reason: "collision" | "refused";
  detail: string;
  deliveries: number | null;
  conflictingOrderId: string | null;
}

/** A row refused by Postgres (data exception or constraint) rather than a failure of the backend. */
function refusalOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string" || !(code.startsWith("22") || code.startsWith("23"))) return undefined;
  return `${code} ${(err as Error).message}`;
}

/** One array per field, in the order given: the parameters UNNEST reads as columns. */
function columns<T>(rows: readonly T[], fields: readonly (keyof T)[]): unknown[][] {
  return fields.map((f) => rows.map((r) => r[f]));
}

function orderParams(rows: OrderRow[]): unknown[] {
  return columns(rows, ["orderId", "saleId", "epoch", "orderNo", "userId", "userUnits", "quantity", "requestId", "acceptedAtMs", "price", "currency"]);
}

export class OrderWriter {
  /** Sales seen in Postgres; a sale row is never deleted once it has orders. */
  private readonly knownSales = new Set<string>();

  /** afterInsert runs between the INSERT and COMMIT (fault injection). */
  constructor(
    private readonly pool: Pool,
    private readonly afterInsert: () => void = () => undefined,
  ) {}

  /** Throws on a failure of Postgres itself (connection, shutdown): the batch is to be retried. */
  async write(rows: OrderRow[]): Promise<WriteResult> {
    const client = await this.pool.connect();
    try {
      const unknownSales = await this.findUnknownSales(client, rows);
      const batch = rows
        .filter((r) => !unknownSales.includes(r.saleId))
        // One lock order for every worker, so two writing the same claimed orders cannot deadlock.
        .sort((a, b) => (a.saleId < b.saleId ? -1 : a.saleId > b.saleId ? 1 : a.epoch - b.epoch || a.orderNo - b.orderNo));
      const result: WriteResult = { written: [], inserted: 0, collisions: [], refused: [], unknownSales };
      if (batch.length > 0) await this.writeSplitting(client, batch, result);
      client.release();
      return result;
    } catch (err) {
      // The connection may be broken: it must not go back to the pool.
      client.release(err instanceof Error ? err : true);
      throw err;
    }
  }

  /** Sets entries aside (a second time: no-op). Undefined once stored, else Postgres' refusal. */
  async setAside(letters: DeadLetter[]): Promise<string | undefined> {
    try {
      await this.insertDeadLetters(this.pool, letters);
      return undefined;
    } catch (err) {
      return this.refusalOrThrow(err);
    }
  }

  private async insertDeadLetters(db: Pool | PoolClient, letters: DeadLetter[]): Promise<void> {
    const rows = letters.map((l) => l.row);
    await db.query(INSERT_DEAD_LETTERS, [
      ...columns(rows, ["saleId", "entryId"]),
      ...columns(letters, ["reason", "detail", "deliveries", "conflictingOrderId"]),
      ...columns(rows, ["orderId", "orderNo", "userId", "userUnits", "quantity", "requestId", "acceptedAtMs"]),
    ]);
  }

  /** Writes the rows, halving them around any that Postgres refuses. */
  private async writeSplitting(client: PoolClient, rows: OrderRow[], out: WriteResult): Promise<void> {
    const refusal = await this.writeOnce(client, rows, out);
    if (refusal === undefined) return;
    if (rows.length === 1) {
      out.refused.push({ row: rows[0] as OrderRow, error: refusal });
      return;
    }
    const half = Math.ceil(rows.length / 2);
    await this.writeSplitting(client, rows.slice(0, half), out);
    await this.writeSplitting(client, rows.slice(half), out);
  }

  /** One transaction for the rows: undefined once committed (out updated), else Postgres' refusal. */
  private async writeOnce(client: PoolClient, rows: OrderRow[], out: WriteResult): Promise<string | undefined> {
    // A plain INSERT costs about a quarter less than ON CONFLICT's speculative insertion, and
    // redelivery is rare (a crash before the ack, a claim from a slow worker): try it first.
    try {
      await this.transaction(client, async () => {
        await client.query(INSERT_ORDERS, orderParams(rows));
        this.afterInsert();
      });
      out.written.push(...rows);
      out.inserted += rows.length;
      return undefined;
    } catch (err) {
      if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) return this.refusalOrThrow(err);
    }
    try {
      await this.transaction(client, () => this.writeMissing(client, rows, out));
      return undefined;
    } catch (err) {
      return this.refusalOrThrow(err);
    }
  }

  private refusalOrThrow(err: unknown): string {
    const refusal = refusalOf(err);
    if (refusal === undefined) throw err;
    return refusal;
  }

  /** Inserts the rows not in Postgres yet, then sorts each row into written or collision. */
  private async writeMissing(client: PoolClient, rows: OrderRow[], out: WriteResult): Promise<void> {
    const inserted = (await client.query(INSERT_MISSING_ORDERS, orderParams(rows))).rowCount ?? 0;
    this.afterInsert();
    const holders = await client.query<{
      order_id: string;
      sale_id: string;
      epoch: number;
      order_no: string;
      user_id: string;
      user_units: number;
      request_id: string | null;
    }>(HOLDERS, orderParams(rows));
    const byKey = new Map<string, Holder>();
    for (const h of holders.rows) {
      const holder = { orderId: h.order_id, userId: h.user_id, requestId: h.request_id };
      byKey.set(`id ${h.order_id}`, holder);
      byKey.set(`units ${h.sale_id} ${h.user_id} ${h.user_units}`, holder);
      byKey.set(`no ${h.sale_id} ${h.epoch} ${h.order_no}`, holder);
    }
    const written: OrderRow[] = [];
    const collisions: Collision[] = [];
    for (const row of rows) {
      const same = byKey.get(`id ${row.orderId}`);
      if (same !== undefined && same.userId === row.userId && same.requestId === row.requestId) {
        written.push(row);
        continue;
      }
      const holder = same ?? byKey.get(`units ${row.saleId} ${row.userId} ${row.userUnits}`) ?? byKey.get(`no ${row.saleId} ${row.epoch} ${row.orderNo}`);
      // Not written yet nothing holds its keys: it was deleted meanwhile; the batch is retried.
      if (holder === undefined) throw new Error(`order ${row.orderId} neither written nor kept out by another order`);
      collisions.push({ row, holder });
    }
    if (collisions.length > 0) {
      await this.insertDeadLetters(
        client,
        collisions.map((c) => ({
          row: c.row,
          reason: "collision",
          detail: `order ${c.holder.orderId} of user ${c.holder.userId} (request ${c.holder.requestId ?? "none"}) holds its keys`,
          deliveries: null,
          conflictingOrderId: c.holder.orderId,
        })),
      );
    }
    out.written.push(...written);
    out.inserted += inserted;
    out.collisions.push(...collisions);
  }

  /** BEGIN, work, COMMIT; ROLLBACK and rethrow when anything fails. */
  private async transaction(client: PoolClient, work: () => Promise<void>): Promise<void> {
    await client.query("BEGIN");
    try {
      await work();
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
  }

  private async findUnknownSales(client: PoolClient, rows: OrderRow[]): Promise<string[]> {
    const unseen = [...new Set(rows.map((r) => r.saleId))].filter((id) => !this.knownSales.has(id));
    if (unseen.length === 0) return [];
    const found = await client.query<{ id: string }>("SELECT id FROM sales WHERE id = ANY($1::text[])", [unseen]);
    for (const { id } of found.rows) this.knownSales.add(id);
    return unseen.filter((id) => !this.knownSales.has(id));
  }
}
