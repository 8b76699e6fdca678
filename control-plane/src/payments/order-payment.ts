/**
 * Pays an order of a `reserve` or `payment` sale from the control plane (the provider's
 * webhook) with the gateway's own script, redis-scripts/order/pay-order.lua, so that both
 * ways of paying decide the order the same way against the order expiry and the units left.
 */
import { RedisScript, type Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/contract/keys";
import type { OrderRef } from "@flash-sale/contract/ids";
import type { PayOutcome } from "@flash-sale/contract/pay_reply";
import type { Deduction } from "@flash-sale/contract/sale";
import { PAY_ORDER } from "@flash-sale/contract/scripts/order";

const SCRIPT = RedisScript.load(PAY_ORDER);

/** An order paid now or before: its units, and its own price per unit (minor units) and currency. */
export interface PaidOrder {
  outcome: "paid" | "already_paid";
  quantity: number;
  /** Undefined for an order recorded before orders carried their price. */
  price?: number;
  currency?: string;
}

type UnpaidOutcome = Exclude<PayOutcome, PaidOrder["outcome"]>;
/** One member per outcome, so that each check of the outcome narrows. */
export type Payment = PaidOrder | { [O in UnpaidOutcome]: { outcome: O } }[UnpaidOutcome];

/**
 * What the order costs, in minor units: its own price × its quantity. An order recorded before
 * orders carried a price is charged its sale's, as the order worker stores it.
 */
export function chargeOf(p: PaidOrder, sale: { price: number; currency: string }): { amount: number; currency: string } {
  if (p.price === undefined || p.currency === undefined) return { amount: sale.price * p.quantity, currency: sale.currency };
  return { amount: p.price * p.quantity, currency: p.currency };
}


/**
 * Pays for whoever owns the order (the provider vouches for the payment, not for a shopper);
 * `deduction` is the sale's: `reserve` or `payment`.
 */
export async function payOrder(redis: Redis, ref: OrderRef, deduction: Deduction): Promise<Payment> {
  const reply = await SCRIPT.run(redis, saleKeys(ref.saleId), { orderNo: ref.orderNo, userId: "", deduction, epoch: ref.epoch });
  if (!("quantity" in reply)) return reply;
  const { outcome, quantity, price, currency } = reply;
  if (price === undefined || !/^\d{1,15}$/.test(price) || currency === undefined) return { outcome, quantity };
  return { outcome, quantity, price: Number(price), currency };
}
