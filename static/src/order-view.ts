/** How an order reads on the order page and the orders list: status words and the pay-by deadline. */
import type { Order, OrderStatus } from "./api.js";

const STATUS_TEXT: Record<OrderStatus, string> = {
  pending: "Pending: your unit is held and the order is being recorded.",
  confirmed: "Confirmed: your order is recorded.",
  paid: "Paid: thank you.",
  expired: "Expired: the order was not paid in time; nothing was charged.",
  failed: "Failed: the order could not be completed; nothing was charged.",
};

/** A `reserve` sale holds the unit for the order; a `payment` sale takes it at payment. */
const RESERVED_TEXT = "Reserved: your unit is held until you pay.";
const AWAITING_PAYMENT_TEXT = "Awaiting payment: paying takes your unit, while any are left.";

/**
 * Statuses after which nothing more happens to the order, unless it awaits a payment
 * (an order that says `payBy` goes on to paid, expired or, for a `payment` sale, failed).
 */
const SETTLED: readonly OrderStatus[] = ["confirmed", "paid", "expired", "failed"];

export function awaitsPayment(order: Order): boolean {
  return order.payBy !== undefined && (order.status === "pending" || order.status === "confirmed");
}

export function isSettled(order: Order): boolean {
  return !awaitsPayment(order) && SETTLED.includes(order.status);
}

export function statusText(order: Order): string {
  if (!awaitsPayment(order)) return STATUS_TEXT[order.status];
  return order.deduction === "payment" ? AWAITING_PAYMENT_TEXT : RESERVED_TEXT;
}

/** The order's sale as a shopper knows it: its name, else (the gateway forgot the sale) its id. */
export function saleLabel(order: Order): string {
  return order.saleName ?? `Sale ${order.saleId}`;
}
