/**
 * Pays an order of a `reserve` or `payment` sale in one Redis round trip:
 * redis-scripts/pay-order.lua (its header states KEYS, ARGV and the replies decoded here).
 */
import { keySlot } from "@flash-sale/contract/cluster";
import { payScriptKeys, saleKeys } from "@flash-sale/contract/keys";
import type { OrderRef } from "@flash-sale/contract/ids";
import { payOutcome, type PayOutcome } from "@flash-sale/contract/pay_reply";
import type { Deduction } from "@flash-sale/contract/sale";
import { callSlot } from "./redis_connection";
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

/** How many of the call's values are KEYS (the rest are ARGV). */
const PAY_KEYS = payScriptKeys(saleKeys("x")).length;

function runPay(this: void, red: RestyRedis, _runId: string, asking: boolean, keysAndArgs: string[]): LuaMultiReturn<[unknown, string | undefined]> {
  return runScript(red, script as RedisScript, PAY_KEYS, keysAndArgs, asking);
}

/** `deduction` is the sale's: `reserve` or `payment` (the script takes the units for `payment`). */
export function payInRedis(ref: OrderRef, userId: string, deduction: Deduction): PayReply {
  const keys = payScriptKeys(saleKeys(ref.saleId));
  const slot = keySlot(keys[0] as string);
  keys.push(ref.orderNo, userId, deduction, ref.epoch);
  const [res, err] = callSlot(slot, runPay, keys);
  if (res === undefined || res === false || err !== undefined || typeof res !== "object") {
    return { outcome: "unavailable", error: tostring(err) };
  }
  const outcome = payOutcome(res);
  if (outcome === undefined) return { outcome: "unavailable", error: "unexpected script reply " + tostring((res as number[])[0]) };
  return { outcome };
}
