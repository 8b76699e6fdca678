/**
 * A sale's counters in Redis, computed from its orders: what the builder writes when it
 * (re)builds the sale (sale-builder.ts). Pure, so the rules are tested on their own.
 */
import type { Deduction } from "@flash-sale/contract/sale";
import type { OrderStatus } from "@flash-sale/contract/stream";

export type { OrderStatus };

export interface KnownOrder {
  epoch: number;
  orderNo: number;
  userId: string;
  quantity: number;
  acceptedAtMs: number;
  status: OrderStatus;
  /** Price per unit (minor units) and currency it was accepted at; undefined for a record Redis holds from before orders carried them. */
  price?: number;
  currency?: string;
}

/** An order as Postgres stores it: always with its price and currency. */
export interface StoredOrder extends KnownOrder {
  price: number;
  currency: string;
}

export interface RebuiltState {
  unitsLeft: number;
  /** Units taken: reserved and paid (`payment` mode: paid only). */
  unitsTaken: number;
  unitsPaid: number;
  openUnpaid: number;
  /** Highest order number known: the counter never goes below it. */
  highestOrderNo: number;
  /** User → units granted, over every order (an expired one still counts: the purchase script never gives a grant back). */
  buyers: Map<string, number>;
  /** Units taken beyond the total (sold before the rebuild): 0 unless something oversold. */
  oversold: number;
}

const RANK: Record<OrderStatus, number> = { pending: 0, confirmed: 1, paid: 2, expired: 2, failed: 2 };

/** Of two records of one order, the status further along (a status only moves forward). */
export function laterStatus(a: OrderStatus, b: OrderStatus): OrderStatus {
  return RANK[b] > RANK[a] ? b : a;
}

/** The statuses of orders that hold units: reserved or paid (`payment` mode: paid only). */
export function statusesTakingUnits(deduction: Deduction): OrderStatus[] {
  return deduction === "payment" ? ["paid"] : ["pending", "confirmed", "paid"];
}

function takesUnits(deduction: Deduction, status: OrderStatus): boolean {
  return statusesTakingUnits(deduction).includes(status);
}

export function rebuiltState(total: number, deduction: Deduction, orders: Iterable<KnownOrder>): RebuiltState {
  let taken = 0;
  let paid = 0;
  let openUnpaid = 0;
  let highest = 0;
  const buyers = new Map<string, number>();
  for (const o of orders) {
    if (takesUnits(deduction, o.status)) taken += o.quantity;
    if (o.status === "paid") paid += o.quantity;
    if (deduction === "payment" && (o.status === "pending" || o.status === "confirmed")) openUnpaid += 1;
    if (o.orderNo > highest) highest = o.orderNo;
    buyers.set(o.userId, (buyers.get(o.userId) ?? 0) + o.quantity);
  }
  return {
    unitsLeft: Math.max(0, total - taken),
    unitsTaken: taken,
    unitsPaid: paid,
    openUnpaid,
    highestOrderNo: highest,
    buyers,
    oversold: Math.max(0, taken - total),
  };
}
