/**
 * Expires a sale's unpaid orders once their payment timeout has passed, giving back the units
 * of a `reserve` sale (redis-scripts/expire-reservations.lua: each order once, atomic with
 * payments).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Redis } from "@flash-sale/node-common";
import { expiryScriptKeys, saleKeys } from "@flash-sale/gateway-lua/core/keys";
import type { SaleTakingPayment } from "../sales/repository";

// Two levels up from both src/reservations (ts-jest) and build/reservations (node).
const SCRIPT = readFileSync(path.resolve(__dirname, "../../redis-scripts/expire-reservations.lua"), "utf8");
/** Orders walked per script call: keeps each call short next to the purchases it blocks. */
const ORDERS_PER_CALL = 500;

export interface ExpiryResult {
  expiredOrders: number;
  unitsReturned: number;
}

export async function expireReservations(redis: Redis, sale: SaleTakingPayment, nowMs: number): Promise<ExpiryResult> {
  const keys = expiryScriptKeys(saleKeys(sale.id));
  const total: ExpiryResult = { expiredOrders: 0, unitsReturned: 0 };
  for (;;) {
    const reply = await redis.eval(SCRIPT, keys.length, ...keys, sale.paymentTimeoutMs, nowMs, ORDERS_PER_CALL, sale.deduction);
    if (!Array.isArray(reply) || reply.length !== 4 || !reply.every((v) => typeof v === "number")) {
      throw new Error(`expire-reservations.lua answered ${JSON.stringify(reply)}`);
    }
    const [expired, units, , more] = reply as [number, number, number, number];
    total.expiredOrders += expired;
    total.unitsReturned += units;
    if (more === 0) return total;
  }
}
