/**
 * A sale's live counters in Redis, read one way for its admin stats, its live traffic, the
 * reconciliation and /metrics. Orders accepted are the sale's order counter: purchase.lua
 * takes the next number for each order it accepts and a rebuild never lowers it below the
 * highest in Postgres, while the orders hash can lose records (a record lost would read as an
 * order never accepted).
 */
import type { Redis } from "@flash-sale/node-common";
import { ordersOfCounter } from "@flash-sale/contract/buckets";
import { bucketKeysOf, type SaleKeys } from "@flash-sale/contract/keys";

export interface SaleCounters {
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
  /** Orders the gateways accepted: the order counter (the last order number handed out; stock buckets: summed over their counters). */
  ordersAccepted: number;
}

/** The keys of one MGET (one slot: they carry one bucket's hash tag), in the order saleCountersOf reads them. */
export function saleCounterKeys(k: SaleKeys): string[] {
  return [k.stock, k.sold, k.paid, k.openUnpaid, k.orderSeq];
}

/** Bucket `bucket`'s counters from MGET saleCounterKeys's values (alone, or at one instant in a MULTI with other readings). */
export function saleCountersOf(values: (string | null)[], bucket = 0, buckets = 1): SaleCounters {
  const [left, sold, paid, openUnpaid, seq] = values;
  return {
    unitsLeft: left === null || left === undefined ? null : Number(left),
    unitsSold: Number(sold ?? 0),
    unitsPaid: Number(paid ?? 0),
    ordersOpenUnpaid: Number(openUnpaid ?? 0),
    ordersAccepted: ordersOfCounter(Number(seq ?? 0), bucket, buckets),
  };
}

/** The sale's counters from its buckets'; units left are null when a bucket holds none. */
export function addCounters(a: SaleCounters, b: SaleCounters): SaleCounters {
  return {
    unitsLeft: a.unitsLeft === null || b.unitsLeft === null ? null : a.unitsLeft + b.unitsLeft,
    unitsSold: a.unitsSold + b.unitsSold,
    unitsPaid: a.unitsPaid + b.unitsPaid,
    ordersOpenUnpaid: a.ordersOpenUnpaid + b.ordersOpenUnpaid,
    ordersAccepted: a.ordersAccepted + b.ordersAccepted,
  };
}

/** Each bucket's counters, bucket 0 first (one MGET each: one slot each); one bucket: the sale's own. */
export function readBucketCounters(redis: Redis, saleId: string, buckets = 1): Promise<SaleCounters[]> {
  return Promise.all(bucketKeysOf(saleId, buckets).map(async (k, b) => saleCountersOf(await redis.mget(saleCounterKeys(k)), b, buckets)));
}

/** Summed over the sale's buckets. */
export async function readSaleCounters(redis: Redis, saleId: string, buckets = 1): Promise<SaleCounters> {
  return (await readBucketCounters(redis, saleId, buckets)).reduce(addCounters);
}
