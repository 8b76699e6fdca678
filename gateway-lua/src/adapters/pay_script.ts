/**
 * Pays an order of a `reserve` or `payment` sale in one Redis round trip:
 * redis-scripts/pay-order.lua (its header states KEYS, ARGV and the replies decoded here).
 */
import { payScriptKeys, saleKeys } from "../core/keys";
import type { OrderRef } from "../core/ids";
import { payOutcome, type PayOutcome } from "../core/pay_reply";
import type { Deduction } from "../core/sale";
import { discardRedis, openRedis, releaseRedis } from "./redis_connection";
import { loadScript, runScript, type RedisScript } from "./redis_scripts";

export interface PayReply {
  outcome: PayOutcome | "unavailable";
  /** For `unavailable`: why, for the log. */
  error?: string;
}


let script: RedisScript | undefined;

/** Loads the script file; called once at init so a missing file stops nginx at start. */
export function loadPayScript(): void {
  script = loadScript("pay-order");
}

/** `deduction` is the sale's: `reserve` or `payment` (the script takes the units for `payment`). */
export function payInRedis(ref: OrderRef, userId: string, deduction: Deduction): PayReply {
  const [red, connectErr] = openRedis();
  if (red === undefined) return { outcome: "unavailable", error: connectErr };
  const keys = payScriptKeys(saleKeys(ref.saleId));
  const numKeys = keys.length;
  keys.push(ref.orderNo, userId, deduction, ref.epoch);
  const [res, err] = runScript(red, script as RedisScript, numKeys, keys);
  if (res === undefined || res === false || err !== undefined || typeof res !== "object") {
    discardRedis(red);
    return { outcome: "unavailable", error: tostring(err) };
  }
  releaseRedis(red);
  const outcome = payOutcome(res);
  if (outcome === undefined) return { outcome: "unavailable", error: "unexpected script reply " + tostring((res as number[])[0]) };
  return { outcome };
}
