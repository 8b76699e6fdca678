/**
 * The one Redis round trip of an admitted purchase: redis-scripts/purchase.lua (its header
 * states KEYS, ARGV and the replies decoded here).
 */
import type { CachedSale } from "./sale_cache";
import { discardRedis, openRedis, releaseRedis, type RedisConnection } from "./redis_connection";
import { isNoScript, loadScript, type RedisScript } from "./redis_scripts";

export type PurchaseOutcome =
  | "accepted"
  | "sold_out"
  | "limit_reached"
  | "not_enough_left"
  | "not_loaded"
  | "challenge_used"
  | "too_many_unpaid"
  | "unavailable";

export interface PurchaseReply {
  outcome: PurchaseOutcome;
  orderNo?: number;
  unitsLeft?: number;
  /** For `unavailable`: why, for the log. */
  error?: string;
}

const OUTCOME_BY_CODE: PurchaseOutcome[] = [
  "accepted",
  "sold_out",
  "limit_reached",
  "not_enough_left",
  "not_loaded",
  "challenge_used",
  "too_many_unpaid",
];

/** The mark a purchase sets on the challenge it used (KEYS[8], ARGV[8] of the script). */
export interface UsedChallengeMark {
  key: string;
  ttlMs: number;
}

let script: RedisScript | undefined;

/** Loads the script file; called once at init so a missing file stops nginx at start. */
export function loadPurchaseScript(): void {
  script = loadScript("purchase");
}

/**
 * ARGV[7] of the script: the sale's bound in mode `payment` (parsePublishedSale refuses a
 * `payment` sale without one); 0 takes the units now.
 */
function openUnpaidBound(c: CachedSale): number {
  return c.sale.deduction === "payment" ? (c.sale.limits.openUnpaidOrders as number) : 0;
}

function call(red: RedisConnection, s: RedisScript, c: CachedSale, userId: string, quantity: number, nowMs: number, requestId: string) {
  const now = string.format("%d", nowMs);
  const bound = openUnpaidBound(c);
  const [res, err] = red.evalsha(s.sha, 7, c.stockKey, c.soldKey, c.buyersKey, c.orderSeqKey, c.ordersKey, c.streamKey, c.openUnpaidKey,
    c.sale.id, userId, quantity, c.sale.perUserLimit, now, requestId, bound);
  if (!isNoScript(err)) return $multi(res, err);
  return red.eval(s.source, 7, c.stockKey, c.soldKey, c.buyersKey, c.orderSeqKey, c.ordersKey, c.streamKey, c.openUnpaidKey,
    c.sale.id, userId, quantity, c.sale.perUserLimit, now, requestId, bound);
}

function callWithChallenge(red: RedisConnection, s: RedisScript, c: CachedSale, userId: string, quantity: number, nowMs: number, requestId: string, mark: UsedChallengeMark) {
  const now = string.format("%d", nowMs);
  const ttl = string.format("%d", mark.ttlMs);
  const bound = openUnpaidBound(c);
  const [res, err] = red.evalsha(s.sha, 8, c.stockKey, c.soldKey, c.buyersKey, c.orderSeqKey, c.ordersKey, c.streamKey, c.openUnpaidKey, mark.key,
    c.sale.id, userId, quantity, c.sale.perUserLimit, now, requestId, bound, ttl);
  if (!isNoScript(err)) return $multi(res, err);
  return red.eval(s.source, 8, c.stockKey, c.soldKey, c.buyersKey, c.orderSeqKey, c.ordersKey, c.streamKey, c.openUnpaidKey, mark.key,
    c.sale.id, userId, quantity, c.sale.perUserLimit, now, requestId, bound, ttl);
}

/** The one round trip; `usedChallenge` is given for sales with a challenge. */
export function purchaseInRedis(c: CachedSale, userId: string, quantity: number, nowMs: number, requestId: string, usedChallenge?: UsedChallengeMark): PurchaseReply {
  const s = script as RedisScript;
  const [red, connectErr] = openRedis();
  if (red === undefined) return { outcome: "unavailable", error: connectErr };
  let res: unknown;
  let err: string | undefined;
  if (usedChallenge === undefined) [res, err] = call(red, s, c, userId, quantity, nowMs, requestId);
  else [res, err] = callWithChallenge(red, s, c, userId, quantity, nowMs, requestId, usedChallenge);
  if (res === undefined || res === false || err !== undefined || typeof res !== "object") {
    discardRedis(red);
    return { outcome: "unavailable", error: tostring(err) };
  }
  releaseRedis(red);
  const reply = res as number[];
  const outcome = OUTCOME_BY_CODE[reply[0] as number];
  if (outcome === undefined) return { outcome: "unavailable", error: "unexpected script reply " + tostring(reply[0]) };
  return { outcome, orderNo: reply[1], unitsLeft: reply[outcome === "accepted" ? 2 : 1] };
}
