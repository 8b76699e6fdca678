/**
 * Pays an order of a `reserve` or `payment` sale from the control plane (the provider's
 * webhook) with the gateway's own script, gateway-lua/redis-scripts/pay-order.lua, so that both
 * ways of paying decide the order the same way against the order expiry and the units left.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Redis } from "@flash-sale/node-common";
import { payScriptKeys, saleKeys } from "@flash-sale/gateway-lua/core/keys";
import type { OrderRef } from "@flash-sale/gateway-lua/core/ids";
import type { Deduction } from "@flash-sale/gateway-lua/core/sale";

// Three levels up from both control-plane/src/payments (ts-jest) and control-plane/build/payments (node).
const SCRIPT = readFileSync(path.resolve(__dirname, "../../../gateway-lua/redis-scripts/pay-order.lua"), "utf8");

export type PaymentOutcome = "paid" | "already_paid" | "expired" | "not_found" | "failed" | "held";
const OUTCOME_BY_CODE: PaymentOutcome[] = ["paid", "already_paid", "expired", "not_found", "failed", "held"];

/**
 * Pays for whoever owns the order (the provider vouches for the payment, not for a shopper);
 * `deduction` is the sale's: `reserve` or `payment`.
 */
export async function payOrder(redis: Redis, ref: OrderRef, deduction: Deduction): Promise<PaymentOutcome> {
  const keys = payScriptKeys(saleKeys(ref.saleId));
  const reply = await redis.eval(SCRIPT, keys.length, ...keys, ref.orderNo, "", deduction, ref.epoch);
  const outcome = Array.isArray(reply) && typeof reply[0] === "number" ? OUTCOME_BY_CODE[reply[0]] : undefined;
  if (outcome === undefined) throw new Error(`pay-order.lua answered ${JSON.stringify(reply)}`);
  return outcome;
}
