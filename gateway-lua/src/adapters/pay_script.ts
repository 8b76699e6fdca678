/**
 * Pays an order of a `reserve` or `payment` sale in one Redis round trip:
 * redis-scripts/order/pay-order.lua (declared in contract/src/scripts/order.ts).
 */
import { keySlot } from "@flash-sale/contract/cluster";
import { saleKeys, type SaleKeys } from "@flash-sale/contract/keys";
import type { OrderRef } from "@flash-sale/contract/ids";
import type { PayOutcome } from "@flash-sale/contract/pay_reply";
import type { Deduction } from "@flash-sale/contract/sale";
import { PAY_ORDER } from "@flash-sale/contract/scripts/order";
import type { Named } from "@flash-sale/contract/scripts/script";
import { callSlot } from "./redis_connection";
import { loadScript, runScript, type LoadedScript } from "./redis_scripts";

export interface PayReply {
  outcome: PayOutcome | "unavailable";
  /** For `unavailable`: why, for the log. */
  error?: string;
}

let script: LoadedScript<typeof PAY_ORDER> | undefined;

/** Loads the script file; called once at init so a missing file stops nginx at start. */
export function loadPayScript(): void {
  script = loadScript(PAY_ORDER);
}

/** The script's ARGV by name, and its KEYS: one table per call. */
interface PayCall extends Named<(typeof PAY_ORDER.args)[number], string> {
  keys: SaleKeys;
}

function runPay(this: void, red: RestyRedis, _runId: string, asking: boolean, p: PayCall): LuaMultiReturn<[unknown, string | undefined]> {
  return runScript(red, script as NonNullable<typeof script>, p.keys, p, asking);
}

/** `deduction` is the sale's: `reserve` or `payment` (the script takes the units for `payment`). */
export function payInRedis(ref: OrderRef, userId: string, deduction: Deduction): PayReply {
  const keys = saleKeys(ref.saleId);
  const [res, err] = callSlot(keySlot(keys.meta), runPay, { keys, orderNo: ref.orderNo, userId, deduction, epoch: ref.epoch });
  if (res === undefined || res === false || err !== undefined || typeof res !== "object") {
    return { outcome: "unavailable", error: tostring(err) };
  }
  const reply = PAY_ORDER.decode(res);
  if (reply === undefined) return { outcome: "unavailable", error: "unexpected script reply " + tostring((res as number[])[0]) };
  return { outcome: reply.outcome };
}
