/**
 * The one Redis round trip of an admitted purchase: redis-scripts/purchase.lua (its header
 * states KEYS, ARGV and the replies decoded here), on the node serving the sale's slot. With
 * knob redis_wait_replicas, WAIT goes out in the same pipeline: an accepted order that too few
 * replicas acknowledged is `not_replicated`.
 */
import { decodePurchaseReply, type PurchaseScriptOutcome, type PurchaseScriptReply } from "@flash-sale/contract/purchase_reply";
import type { CachedBucket, CachedSale } from "./sale_cache";
import { callSlot } from "./redis_connection";
import { loadScript, runScript, runScriptThenWait, type RedisScript } from "./redis_scripts";
import { settings } from "../settings";

/** The script's outcomes, and what the round trip itself can end in. */
export type PurchaseOutcome = PurchaseScriptOutcome | "not_replicated" | "unavailable" | "unknown";

export interface PurchaseReply extends Omit<PurchaseScriptReply, "outcome"> {
  outcome: PurchaseOutcome;
  /** For `not_replicated`: the replicas that acknowledged the order in time. */
  replicas?: number;
  /** For `unavailable` (nothing written) and `unknown` (sent, no answer: it may have run): why, for the log. */
  error?: string;
}

/** The mark a purchase sets on the challenge it used (KEYS[10], ARGV[11] of the script). */
export interface UsedChallengeMark {
  key: string;
  ttlMs: number;
}

let script: RedisScript | undefined;

/** Loads the script file; called once at init so a missing file stops nginx at start. */
export function loadPurchaseScript(): void {
  script = loadScript("purchase");
}

function fill(a: (string | number)[], c: CachedSale, p: Purchase, runId: string): number {
  const mark = p.mark;
  const k = p.bucket;
  a[0] = k.stockKey;
  a[1] = k.soldKey;
  a[2] = k.buyersKey;
  a[3] = k.orderSeqKey;
  a[4] = k.ordersKey;
  a[5] = k.streamKey;
  a[6] = k.openUnpaidKey;
  a[7] = k.metaKey;
  a[8] = k.userOrdersKey;
  let i = 9;
  if (mark !== undefined) a[i++] = mark.key;
  a[i++] = c.sale.id;
  a[i++] = p.userId;
  a[i++] = p.quantity;
  a[i++] = c.sale.perUserLimit;
  a[i++] = p.requestId;
  // ARGV[6]: the sale's bound in mode `payment` (parsePublishedSale refuses one without it); 0 takes the units now.
  a[i++] = c.sale.deduction === "payment" ? (c.sale.limits.openUnpaidOrders as number) : 0;
  a[i++] = runId;
  a[i++] = p.passEpoch === undefined ? "" : string.format("%d", p.passEpoch);
  // ARGV[9], ARGV[10]: the price and currency the shopper is shown (GET /api/sales/{id}); the order keeps them.
  a[i++] = c.sale.price;
  a[i++] = c.sale.currency;
  if (mark !== undefined) a[i++] = string.format("%d", mark.ttlMs);
  return mark === undefined ? 9 : 10;
}

interface Purchase {
  c: CachedSale;
  /** The shopper's stock bucket (the sale's keys when it has one). */
  bucket: CachedBucket;
  userId: string;
  quantity: number;
  requestId: string;
  mark: UsedChallengeMark | undefined;
  /** The epoch of the waiting-room pass, for sales with one. */
  passEpoch: number | undefined;
  /** Set once the script went out: a transport error after that may hide an order taken. */
  sent: boolean;
  /** With WAIT in the pipeline: the replicas that acknowledged the order in time. */
  replicas: number | undefined;
}

/**
 * KEYS and ARGV with the run id of the node the connection reached. A table per call, never
 * one per worker: the EVAL after a NOSCRIPT goes out after a yield, when other purchases of
 * this worker may have written theirs.
 */
function runPurchase(this: void, red: RestyRedis, runId: string, asking: boolean, p: Purchase): LuaMultiReturn<[unknown, string | undefined]> {
  const args: (string | number)[] = [];
  const numKeys = fill(args, p.c, p, runId);
  const s = settings();
  p.sent = true;
  if (s.redisWaitReplicas === 0) return runScript(red, script as RedisScript, numKeys, args, asking);
  red.set_timeout(s.redisTimeoutMs + s.redisWaitTimeoutMs);
  const [res, err, replicas] = runScriptThenWait(red, script as RedisScript, numKeys, args, s.redisWaitReplicas, s.redisWaitTimeoutMs, asking);
  // Kept on the purchase (a table already), not in a second one; error replies go back as they
  // are: callSlot follows a MOVED or an ASK.
  p.replicas = replicas;
  return $multi(res, err);
}

/** The one round trip, on the shopper's bucket; `usedChallenge` is given for sales with a challenge, `passEpoch` for sales with a waiting room. */
export function purchaseInRedis(c: CachedSale, bucket: CachedBucket, userId: string, quantity: number, requestId: string, usedChallenge: UsedChallengeMark | undefined, passEpoch: number | undefined): PurchaseReply {
  const p: Purchase = { c, bucket, userId, quantity, requestId, mark: usedChallenge, passEpoch, sent: false, replicas: undefined };
  const [res, err] = callSlot(bucket.slot, runPurchase, p);
  if (res === undefined) return { outcome: p.sent ? "unknown" : "unavailable", error: tostring(err) };
  // An error reply: the script validates before it writes, so it wrote nothing.
  if (res === false || err !== undefined || typeof res !== "object") return { outcome: "unavailable", error: tostring(err) };
  const decoded = decodePurchaseReply(res);
  if (decoded === undefined) {
    const code = (res as unknown[])[0];
    return { outcome: "unavailable", error: "unexpected script reply " + tostring(code) };
  }
  // The decoded table is the answer: an order too few replicas acknowledged is relabelled in place.
  const reply: PurchaseReply = decoded;
  const wanted = settings().redisWaitReplicas;
  if (reply.outcome === "accepted" && wanted > 0 && (p.replicas ?? 0) < wanted) {
    reply.outcome = "not_replicated";
    reply.replicas = p.replicas ?? 0;
  }
  return reply;
}
