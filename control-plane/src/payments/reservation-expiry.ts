/**
 * Expires a sale's unpaid orders once their payment timeout has passed, giving back the units
 * of a `reserve` sale (redis-scripts/order/expire-reservations.lua: each order once, atomic with
 * payments).
 */
import { RedisScript, type Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/contract/keys";
import { EXPIRE_RESERVATIONS } from "@flash-sale/contract/scripts/order";
import { unhandledReply } from "@flash-sale/contract/scripts/script";
import type { SaleTakingPayment } from "../store/sale-repository";

const SCRIPT = RedisScript.load(EXPIRE_RESERVATIONS);
/** Orders walked per script call: keeps each call short next to the purchases it blocks. */
const ORDERS_PER_CALL = 500;

export interface ExpiryResult {
  expiredOrders: number;
  unitsReturned: number;
  /** The sale is held for a rebuild: nothing was expired (the next run after it will). */
  held: boolean;
}

/** Due is judged by Redis' clock, the one that stamped the orders' acceptance. */
export async function expireReservations(redis: Redis, sale: SaleTakingPayment): Promise<ExpiryResult> {
  const keys = saleKeys(sale.id);
  const total: ExpiryResult = { expiredOrders: 0, unitsReturned: 0, held: false };
  for (;;) {
    const reply = await SCRIPT.run(redis, keys, { timeoutMs: sale.paymentTimeoutMs, budget: ORDERS_PER_CALL, deduction: sale.deduction });
    switch (reply.reply) {
      case "held":
        return { ...total, held: true };
      case "walked":
        total.expiredOrders += reply.expired;
        total.unitsReturned += reply.unitsReturned;
        if (!reply.more) return total;
        break;
      default:
        return unhandledReply(reply);
    }
  }
}
