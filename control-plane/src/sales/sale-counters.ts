/**
 * A sale's live counters in Redis, read one way for its admin stats, its live traffic, the
 * reconciliation and /metrics. Orders accepted are the sale's order counter: purchase.lua
 * takes the next number for each order it accepts and a rebuild never lowers it below the
 * highest in Postgres, while the orders hash can lose records (a record lost would read as an
 * order never accepted).
 */
import type { Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/gateway-lua/core/keys";

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
  /** Orders the gateways accepted: the order counter (the last order number handed out). */
  ordersAccepted: number;
}

/** The keys of one MGET (one slot: they carry the sale's hash tag), in the order saleCountersOf reads them. */
export function saleCounterKeys(saleId: string): string[] {
  const k = saleKeys(saleId);
  return [k.stock, k.sold, k.paid, k.openUnpaid, k.orderSeq];
}

/** The counters from MGET saleCounterKeys's values (alone, or at one instant in a MULTI with other readings). */
export function saleCountersOf(values: (string | null)[]): SaleCounters {
  const [left, sold, paid, openUnpaid, seq] = values;
  return {
    unitsLeft: left === null || left === undefined ? null : Number(left),
    unitsSold: Number(sold ?? 0),
    unitsPaid: Number(paid ?? 0),
    ordersOpenUnpaid: Number(openUnpaid ?? 0),
    ordersAccepted: Number(seq ?? 0),
  };
}

export async function readSaleCounters(redis: Redis, saleId: string): Promise<SaleCounters> {
  return saleCountersOf(await redis.mget(saleCounterKeys(saleId)));
}
