/**
 * Pays an order of a `reserve` or `payment` sale from the control plane (the provider's
 * webhook) with the gateway's own script, gateway-lua/redis-scripts/pay-order.lua, so that both
 * ways of paying decide the order the same way against the order expiry and the units left.
 */
import path from "node:path";
import { RedisScript, type Redis } from "@flash-sale/node-common";
import { payScriptKeys, saleKeys } from "@flash-sale/gateway-lua/core/keys";
import type { OrderRef } from "@flash-sale/gateway-lua/core/ids";
import { payOutcome, type PayOutcome } from "@flash-sale/gateway-lua/core/pay_reply";
import type { Deduction } from "@flash-sale/gateway-lua/core/sale";

// Three levels up from both control-plane/src/payments (ts-jest) and control-plane/build/payments (node).
const SCRIPT = RedisScript.load(path.resolve(__dirname, "../../../gateway-lua/redis-scripts/pay-order.lua"));

/**
 * Pays for whoever owns the order (the provider vouches for the payment, not for a shopper);
 * `deduction` is the sale's: `reserve` or `payment`.
 */
export async function payOrder(redis: Redis, ref: OrderRef, deduction: Deduction): Promise<PayOutcome> {
  const reply = await SCRIPT.run(redis, payScriptKeys(saleKeys(ref.saleId)), [ref.orderNo, "", deduction, ref.epoch]);
  const outcome = payOutcome(reply);
  if (outcome === undefined) throw new Error(`pay-order.lua answered ${JSON.stringify(reply)}`);
  return outcome;
}
