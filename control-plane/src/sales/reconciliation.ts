/**
 * Reconciliation of a sale, Redis against Postgres: every unit is left or sold
 * (left + sold = total), and every accepted order reached Postgres once the stream is drained.
 * The last result of each sale is kept in sale_reconciliation and shown in its stats.
 */
import type { Pool, Redis } from "@flash-sale/node-common";
import { ORDER_CONSUMER_GROUP, saleKeys } from "@flash-sale/gateway-lua/core/keys";
import type { LockedSale, SaleRepository } from "./repository";

export interface Reconciliation {
  checkedAt: string;
  /** The sale's total in Postgres. */
  total: number;
  /** Null when Redis holds no stock for the sale. */
  unitsLeft: number | null;
  unitsSold: number;
  /**
   * total − (left + sold): units gone missing (> 0) or made up (< 0); 0 when all is well, and
   * for a sale not started yet whose stock is not loaded (the preload job loads it).
   */
  unitDrift: number;
  /** Orders the gateways accepted (the sale's order counter). */
  ordersAccepted: number;
  ordersPersisted: number;
  /** Stream entries not yet acknowledged by the order worker; null when unknown. */
  ordersInFlight: number | null;
  /** accepted − persisted, judged only when nothing was in flight; null otherwise. */
  orderDrift: number | null;
}

interface RedisCounts {
  left: number | null;
  sold: number;
  accepted: number;
  inFlight: number | null;
}

/** Pending (delivered, not acknowledged) plus lag (not yet delivered) of the workers' group. */
function inFlightOf(groups: unknown): number | null {
  if (!Array.isArray(groups)) return null;
  for (const g of groups as unknown[][]) {
    const field = (name: string): unknown => g[g.indexOf(name) + 1];
    if (field("name") !== ORDER_CONSUMER_GROUP) continue;
    const pending = field("pending");
    const lag = field("lag"); // null when Redis cannot tell (entries deleted)
    return typeof pending === "number" && typeof lag === "number" ? pending + lag : null;
  }
  return null;
}

/** One MULTI on the sale's slot: the counts are read at one instant. */
async function readRedisCounts(redis: Redis, saleId: string): Promise<RedisCounts> {
  const k = saleKeys(saleId);
  const replies = await redis.multi().mget(k.stock, k.sold).get(k.orderSeq).xinfo("GROUPS", k.stream).exec();
  if (replies === null) throw new Error("reconciliation: MULTI aborted");
  const [[mgetErr, units], [seqErr, seq], [, groups]] = replies as [[Error | null, unknown], [Error | null, unknown], [Error | null, unknown]];
  if (mgetErr !== null || seqErr !== null) throw mgetErr ?? seqErr;
  const [left, sold] = units as (string | null)[];
  return {
    left: left === null || left === undefined ? null : Number(left),
    sold: Number(sold ?? 0),
    accepted: Number(seq ?? 0),
    inFlight: inFlightOf(groups), // a missing stream is an error reply: unknown
  };
}

/** Reconciles a locked sale (admin changes wait, so the total cannot move meanwhile). */
export async function reconcileSale(redis: Redis, repository: SaleRepository, locked: LockedSale, nowMs: number): Promise<Reconciliation> {
  const saleId = locked.sale.id;
  const before = await readRedisCounts(redis, saleId);
  const persisted = await repository.persistedOrders(saleId);
  const after = await readRedisCounts(redis, saleId);
  // The worker writes Postgres before it acknowledges: with nothing in flight before and after
  // and no new order in between, Postgres had to hold every accepted order when it was read.
  const awaitingPreload = before.left === null && before.sold === 0 && nowMs < Date.parse(locked.sale.startsAt);
  const settled = before.inFlight === 0 && after.inFlight === 0 && before.accepted === after.accepted;
  return {
    checkedAt: new Date(nowMs).toISOString(),
    total: locked.sale.stock,
    unitsLeft: before.left,
    unitsSold: before.sold,
    unitDrift: awaitingPreload ? 0 : locked.sale.stock - ((before.left ?? 0) + before.sold),
    ordersAccepted: after.accepted,
    ordersPersisted: persisted.orders,
    ordersInFlight: after.inFlight,
    orderDrift: settled ? before.accepted - persisted.orders : null,
  };
}

export function hasDrift(r: Reconciliation): boolean {
  return r.unitDrift !== 0 || (r.orderDrift !== null && r.orderDrift !== 0);
}

interface ReconciliationRow {
  checked_at: Date;
  total: number;
  units_left: number | null;
  units_sold: number;
  unit_drift: number;
  orders_accepted: number;
  orders_persisted: number;
  orders_in_flight: number | null;
  order_drift: number | null;
}

export async function storeReconciliation(locked: LockedSale, r: Reconciliation): Promise<void> {
  await locked.db.query(
    `INSERT INTO sale_reconciliation (sale_id, checked_at, total, units_left, units_sold, unit_drift,
                                      orders_accepted, orders_persisted, orders_in_flight, order_drift)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (sale_id) DO UPDATE SET
       checked_at = EXCLUDED.checked_at, total = EXCLUDED.total, units_left = EXCLUDED.units_left,
       units_sold = EXCLUDED.units_sold, unit_drift = EXCLUDED.unit_drift,
       orders_accepted = EXCLUDED.orders_accepted, orders_persisted = EXCLUDED.orders_persisted,
       orders_in_flight = EXCLUDED.orders_in_flight, order_drift = EXCLUDED.order_drift`,
    [
      locked.sale.id,
      r.checkedAt,
      r.total,
      r.unitsLeft,
      r.unitsSold,
      r.unitDrift,
      r.ordersAccepted,
      r.ordersPersisted,
      r.ordersInFlight,
      r.orderDrift,
    ],
  );
}

/** The sale's last reconciliation; null before the first. */
export async function lastReconciliation(pool: Pool, saleId: string): Promise<Reconciliation | null> {
  const result = await pool.query<ReconciliationRow>("SELECT * FROM sale_reconciliation WHERE sale_id = $1", [saleId]);
  const row = result.rows[0];
  if (row === undefined) return null;
  return {
    checkedAt: row.checked_at.toISOString(),
    total: row.total,
    unitsLeft: row.units_left,
    unitsSold: row.units_sold,
    unitDrift: row.unit_drift,
    ordersAccepted: row.orders_accepted,
    ordersPersisted: row.orders_persisted,
    ordersInFlight: row.orders_in_flight,
    orderDrift: row.order_drift,
  };
}
