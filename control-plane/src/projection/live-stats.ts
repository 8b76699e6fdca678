/**
 * How a sale is going: units in Redis (the live count), orders already in Postgres, the
 * revision Redis applied (below the sale's `revision`: a saved change not applied yet), and
 * the last reconciliation.
 */
import type { Pool, Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/contract/keys";
import { lastReconciliation, type Reconciliation } from "./reconciliation";
import { readQueueStats, type QueueStats } from "./queue-stats";
import { addCounters, readBucketCounters, type SaleCounters } from "./sale-counters";
import type { SaleRepository } from "../store/sale-repository";

export interface LiveStats extends Omit<SaleCounters, "ordersAccepted"> {
  /** Accepted orders the order worker has written to Postgres, and their units. */
  ordersPersisted: number;
  unitsPersisted: number;
  /** The sale's revision Redis applied (its meta); null while Redis holds none. */
  appliedRevision: number | null;
  /** The reconcile job's last check of the sale (drift shows here); null before the first. */
  reconciliation: Reconciliation | null;
  /** The waiting room's figures; absent while the sale has no queue in Redis. */
  queue?: QueueStats;
  /** A sale in stock buckets: each bucket's units left, bucket 0 first (null: not loaded); absent with one bucket. */
  bucketUnitsLeft?: (number | null)[];
}

export async function readLiveStats(redis: Redis, pool: Pool, repository: SaleRepository, saleId: string, buckets = 1): Promise<LiveStats> {
  const [perBucket, applied, persisted, reconciliation, queue] = await Promise.all([
    readBucketCounters(redis, saleId, buckets),
    redis.hget(saleKeys(saleId).meta, "revision"),
    repository.persistedOrders(saleId),
    lastReconciliation(pool, saleId),
    readQueueStats(redis, saleId),
  ]);
  const { unitsLeft, unitsSold, unitsPaid, ordersOpenUnpaid } = perBucket.reduce(addCounters);
  return {
    unitsLeft,
    unitsSold,
    unitsPaid,
    ordersOpenUnpaid,
    ordersPersisted: persisted.orders,
    unitsPersisted: persisted.units,
    appliedRevision: applied === null ? null : Number(applied),
    reconciliation,
    ...(queue === undefined ? {} : { queue }),
    ...(buckets > 1 ? { bucketUnitsLeft: perBucket.map((c) => c.unitsLeft) } : {}),
  };
}
