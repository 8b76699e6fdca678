/**
 * Pays a reserved order from the control plane (the provider's webhook) with the gateway's own
 * script, gateway-lua/redis-scripts/pay-order.lua, so that both ways of paying decide the order
 * the same way against the reservation expiry.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Redis } from "@flash-sale/node-common";
import { payScriptKeys, saleKeys } from "@flash-sale/gateway-lua/core/keys";
import type { OrderRef } from "@flash-sale/gateway-lua/core/ids";

// Three levels up from both control-plane/src/payments (ts-jest) and control-plane/build/payments (node).
const SCRIPT = readFileSync(path.resolve(__dirname, "../../../gateway-lua/redis-scripts/pay-order.lua"), "utf8");

export type PaymentOutcome = "paid" | "already_paid" | "expired" | "not_found";
const OUTCOME_BY_CODE: PaymentOutcome[] = ["paid", "already_paid", "expired", "not_found"];

/** Pays for whoever owns the order (the provider vouches for the payment, not for a shopper). */
export async function payOrder(redis: Redis, ref: OrderRef): Promise<PaymentOutcome> {
  const keys = payScriptKeys(saleKeys(ref.saleId));
  const reply = await redis.eval(SCRIPT, keys.length, ...keys, ref.orderNo, "");
  const outcome = Array.isArray(reply) && typeof reply[0] === "number" ? OUTCOME_BY_CODE[reply[0]] : undefined;
  if (outcome === undefined) throw new Error(`pay-order.lua answered ${JSON.stringify(reply)}`);
  return outcome;
}
