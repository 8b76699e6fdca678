/**
 * Per-user GCRA limiter: one TAT per (sale, user) in a shared dict.
 *
 * Known race: get and set are two dict operations, so two workers deciding for the same user
 * in the same instant may both pass. The limiter is approximate by design; stock and the
 * per-user limit are decided in Redis, never here.
 */
import { gcraDecide, type GcraDecision, type GcraPolicy } from "@flash-sale/contract/gcra";
import { limitsDict } from "./shared_dict";

export function userRateIncoming(saleId: string, userId: string, nowMs: number, policy: GcraPolicy): GcraDecision {
  const d = limitsDict();
  const key = "u:" + saleId + ":" + userId;
  const [stored] = d.get(key);
  const decision = gcraDecide(typeof stored === "number" ? stored : undefined, nowMs, policy);
  if (decision.allowed) {
    // Keep the TAT only as long as it matters: until it falls back to now.
    const ttlSec = (decision.tatMs - nowMs) / 1000 + 1;
    const [ok, err] = d.set(key, decision.tatMs, ttlSec);
    if (!ok) ngx.log(ngx.WARN, "user rate limiter: cannot store state: ", tostring(err));
  }
  return decision;
}
