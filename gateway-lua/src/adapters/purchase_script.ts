/**
 * The one Redis round trip of an admitted purchase: redis-scripts/purchase.lua (its header
 * states KEYS, ARGV and the replies decoded here).
 */
import type { CachedSale } from "./sale_cache";
import { discardRedis, openRedis, redisRunId, releaseRedis } from "./redis_connection";
import { loadScript, runScript, type RedisScript } from "./redis_scripts";

export type PurchaseOutcome =
  | "accepted"
  | "sold_out"
  | "limit_reached"
  | "not_enough_left"
  | "not_loaded"
  | "challenge_used"
  | "too_many_unpaid"
  | "held"
  | "not_open"
  | "unavailable";

export interface PurchaseReply {
  outcome: PurchaseOutcome;
  orderId?: string;
  unitsLeft?: number;
  /** For `not_open`: "upcoming", "ended" or "paused" by Redis' clock and state. */
  window?: string;
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
  "held",
  "not_open",
];

/** The mark a purchase sets on the challenge it used (KEYS[10], ARGV[8] of the script). */
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
 * KEYS and ARGV, written into one table per worker and call shape (with or without the
 * challenge key): nothing is allocated per purchase. Two tables, so that neither ever shrinks
 * (a Lua array's length is its border).
 */
const plainArgs: (string | number)[] = [];
const challengeArgs: (string | number)[] = [];

function fill(a: (string | number)[], c: CachedSale, userId: string, quantity: number, requestId: string, mark: UsedChallengeMark | undefined): number {
  a[0] = c.stockKey;
  a[1] = c.soldKey;
  a[2] = c.buyersKey;
  a[3] = c.orderSeqKey;
  a[4] = c.ordersKey;
  a[5] = c.streamKey;
  a[6] = c.openUnpaidKey;
  a[7] = c.metaKey;
  a[8] = c.userOrdersKey;
  let i = 9;
  if (mark !== undefined) a[i++] = mark.key;
  a[i++] = c.sale.id;
  a[i++] = userId;
  a[i++] = quantity;
  a[i++] = c.sale.perUserLimit;
  a[i++] = requestId;
  // ARGV[6]: the sale's bound in mode `payment` (parsePublishedSale refuses one without it); 0 takes the units now.
  a[i++] = c.sale.deduction === "payment" ? (c.sale.limits.openUnpaidOrders as number) : 0;
  a[i++] = redisRunId();
  if (mark !== undefined) a[i++] = string.format("%d", mark.ttlMs);
  return mark === undefined ? 9 : 10;
}

/** The one round trip; `usedChallenge` is given for sales with a challenge. */
export function purchaseInRedis(c: CachedSale, userId: string, quantity: number, requestId: string, usedChallenge?: UsedChallengeMark): PurchaseReply {
  const [red, connectErr] = openRedis();
  if (red === undefined) return { outcome: "unavailable", error: connectErr };
  const args = usedChallenge === undefined ? plainArgs : challengeArgs;
  const numKeys = fill(args, c, userId, quantity, requestId, usedChallenge);
  const [res, err] = runScript(red, script as RedisScript, numKeys, args);
  if (res === undefined || res === false || err !== undefined || typeof res !== "object") {
    discardRedis(red);
    return { outcome: "unavailable", error: tostring(err) };
  }
  releaseRedis(red);
  const reply = res as unknown[];
  const outcome = OUTCOME_BY_CODE[reply[0] as number];
  if (outcome === undefined) return { outcome: "unavailable", error: "unexpected script reply " + tostring(reply[0]) };
  if (outcome === "accepted") return { outcome, orderId: reply[1] as string, unitsLeft: reply[2] as number };
  if (outcome === "not_open") return { outcome, window: reply[1] as string };
  return { outcome, unitsLeft: reply[1] as number | undefined };
}
