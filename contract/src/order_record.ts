/**
 * The order record in a sale's orders hash (SaleKeys.orders): `user \t quantity \t
 * acceptedAtMs \t epoch \t price \t currency`, the price per unit in minor units and the currency
 * the order was accepted at (the sale's as the gateway had it published). Written by
 * redis-scripts/purchase.lua and restored by the control plane's builder; the Lua scripts format
 * and read it through redis-scripts/includes/order-record.lua.
 */
import { decimalValue } from "./text";

export interface OrderRecord {
  userId: string;
  quantity: number;
  acceptedAtMs: number;
  epoch: number;
  /** Undefined in a record written before orders carried their price (four parts): then unknown. */
  price?: number;
  currency?: string;
}

/** A record as it is written now: with its price and currency. */
export interface PricedOrderRecord extends OrderRecord {
  price: number;
  currency: string;
}

export function formatOrderRecord(r: PricedOrderRecord): string {
  return r.userId + "\t" + r.quantity + "\t" + r.acceptedAtMs + "\t" + r.epoch + "\t" + r.price + "\t" + r.currency;
}

function digits(s: string | undefined): number | undefined {
  return s === undefined ? undefined : decimalValue(s, 15);
}

/** The record, or undefined when the text is not one. */
export function parseOrderRecord(text: string): OrderRecord | undefined {
  const parts = text.split("\t");
  if (parts.length !== 4 && parts.length !== 6) return undefined;
  const userId = parts[0] as string;
  const quantity = digits(parts[1]);
  const acceptedAtMs = digits(parts[2]);
  const epoch = digits(parts[3]);
  if (userId.length === 0 || quantity === undefined || acceptedAtMs === undefined || epoch === undefined) return undefined;
  if (parts.length === 4) return { userId, quantity, acceptedAtMs, epoch };
  const price = digits(parts[4]);
  const currency = parts[5] as string;
  if (price === undefined || currency.length === 0) return undefined;
  return { userId, quantity, acceptedAtMs, epoch, price, currency };
}

/**
 * The order numbers of a user's entry in a sale's user-orders index (SaleKeys.userOrders):
 * space-separated, oldest first. Answers the newest `max` of them, newest first; anything that
 * is not a whole number is skipped.
 */
export function newestOrderNumbers(text: string, max: number): string[] {
  const parts = text.split(" ");
  const out: string[] = [];
  for (let i = parts.length - 1; i >= 0 && out.length < max; i--) {
    const part = parts[i] as string;
    if (part.charCodeAt(0) !== 48 && digits(part) !== undefined) out.push(part);
  }
  return out;
}
