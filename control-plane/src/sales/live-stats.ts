/**
 * How a sale is going: units in Redis (the live count), orders already in Postgres, the
 * revision Redis applied (below the sale's `revision`: a saved change not applied yet), and
 * the last reconciliation.
 */
import type { Pool, Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/gateway-lua/core/keys";
import { lastReconciliation, type Reconciliation } from "./reconciliation";
import { readQueueStats, type QueueStats } from "./queue-stats";
import type { SaleRepository } from "./repository";

export interface LiveStats {
  /** Units left to take; null while the stock is not loaded (never published). */
  unitsLeft: number | null;
  /**
   * Units taken (a `reserve` sale's include the reserved ones: reserved = sold − paid; a
   * `payment` sale takes them at payment, so sold = paid).
   */
  unitsSold: number;
  /** Units paid for (`reserve`, `payment` sales; 0 otherwise). */
  unitsPaid: number;
  /** Orders waiting unpaid, no unit taken (`payment` sales, bounded; 0 otherwise). */
  ordersOpenUnpaid: number;
  /** Accepted orders the order worker has written to Postgres, and their units. */
  ordersPersisted: number;
  unitsPersisted: number;
  /** The sale's revision Redis applied (its meta); null while Redis holds none. */
  appliedRevision: number | null;
  /** The reconcile job's last check of the sale (drift shows here); null before the first. */
  reconciliation: Reconciliation | null;
  /** The waiting room's figures; absent while the sale has no queue in Redis. */
  queue?: QueueStats;
}

export async function readLiveStats(redis: Redis, pool: Pool, repository: SaleRepository, saleId: string): Promise<LiveStats> {
  const keys = saleKeys(saleId);
  const [[left, sold, paid, openUnpaid], applied, persisted, reconciliation, queue] = await Promise.all([
    redis.mget(keys.stock, keys.sold, keys.paid, keys.openUnpaid), // one slot: the keys carry the sale's hash tag
    redis.hget(keys.meta, "revision"),
    repository.persistedOrders(saleId),
    lastReconciliation(pool, saleId),
    readQueueStats(redis, saleId),
  ]);
  return {
    unitsLeft: left === null || left === undefined ? null : Number(left),
    unitsSold: Number(sold ?? 0),
    unitsPaid: Number(paid ?? 0),
    ordersOpenUnpaid: Number(openUnpaid ?? 0),
    ordersPersisted: persisted.orders,
    unitsPersisted: persisted.units,
    appliedRevision: applied === null ? null : Number(applied),
    reconciliation,
    ...(queue === undefined ? {} : { queue }),
  };
}
