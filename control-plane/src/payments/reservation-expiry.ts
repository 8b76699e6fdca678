/**
 * Expires a sale's unpaid orders once their payment timeout has passed, giving back the units
 * of a `reserve` sale (redis-scripts/expire-reservations.lua: each order once, atomic with
 * payments).
 */
import path from "node:path";
import { RedisScript, type Redis } from "@flash-sale/node-common";
import { expiryScriptKeys, saleKeys } from "@flash-sale/contract/keys";
import type { SaleTakingPayment } from "../store/sale-repository";

// Two levels up from both src/reservations (ts-jest) and build/reservations (node).
const SCRIPT = RedisScript.load(path.resolve(__dirname, "../../redis-scripts/expire-reservations.lua"));
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
  const keys = expiryScriptKeys(saleKeys(sale.id));
  const total: ExpiryResult = { expiredOrders: 0, unitsReturned: 0, held: false };
  for (;;) {
    const reply = await SCRIPT.run(redis, keys, [sale.paymentTimeoutMs, ORDERS_PER_CALL, sale.deduction]);
    if (Array.isArray(reply) && reply.length === 1 && reply[0] === -1) return { ...total, held: true };
    if (!Array.isArray(reply) || reply.length !== 4 || !reply.every((v) => typeof v === "number")) {
      throw new Error(`expire-reservations.lua answered ${JSON.stringify(reply)}`);
    }
    const [expired, units, , more] = reply as [number, number, number, number];
    total.expiredOrders += expired;
    total.unitsReturned += units;
    if (more === 0) return total;
  }
}
