/**
 * The one Redis round trip of an admitted purchase: redis-scripts/order/purchase.lua (declared
 * in contract/src/scripts/order.ts), on the node serving the sale's slot. With
 * knob redis_wait_replicas, WAIT goes out in the same pipeline: an accepted order that too few
 * replicas acknowledged is `not_replicated`.
 */
import type { PurchaseScriptOutcome, PurchaseScriptReply } from "@flash-sale/contract/purchase_reply";
import { PURCHASE } from "@flash-sale/contract/scripts/order";
import type { CachedBucket, CachedSale } from "./sale_cache";
import { callSlot } from "./redis_connection";
import { loadScript, runScript, runScriptThenWait, type LoadedScript, type MoreValues } from "./redis_scripts";
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

/** The mark a purchase sets on the challenge it used (the script's usedChallenge, challengeTtlMs). */
export interface UsedChallengeMark {
  key: string;
  ttlMs: number;
}

let script: LoadedScript<typeof PURCHASE> | undefined;

/** Loads the script file; called once at init so a missing file stops nginx at start. */
export function loadPurchaseScript(): void {
  script = loadScript(PURCHASE);
}

/** The purchase is the script's ARGV by name (no table of its own per call), with what the call needs besides. */
interface Purchase {
  saleId: string;
  userId: string;
  quantity: number;
  perUserLimit: number;
  requestId: string;
  /** The sale's bound in mode `payment` (parsePublishedSale refuses one without it); 0 takes the units now. */
  openUnpaidBound: number;
  /** Of the node the connection reached: set per try. */
  runId: string;
  /** The epoch of the waiting-room pass, for sales with one; "" without. */
  passEpoch: string;
  /** The price and currency the shopper is shown (GET /api/sales/{id}); the order keeps them. */
  price: number;
  currency: string;
  /** The shopper's stock bucket (the sale's keys when it has one). */
  bucket: CachedBucket;
  /** The used-challenge mark's key and time to live, for sales with a challenge. */
  mark: MoreValues | undefined;
  /** Set once the script went out: a transport error after that may hide an order taken. */
  sent: boolean;
  /** With WAIT in the pipeline: the replicas that acknowledged the order in time. */
  replicas: number | undefined;
}

function runPurchase(this: void, red: RestyRedis, runId: string, asking: boolean, p: Purchase): LuaMultiReturn<[unknown, string | undefined]> {
  const s = settings();
  p.runId = runId;
  p.sent = true;
  const loaded = script as NonNullable<typeof script>;
  if (s.redisWaitReplicas === 0) return runScript(red, loaded, p.bucket.keys, p, asking, p.mark);
  red.set_timeout(s.redisTimeoutMs + s.redisWaitTimeoutMs);
  const [res, err, replicas] = runScriptThenWait(red, loaded, p.bucket.keys, p, p.mark, s.redisWaitReplicas, s.redisWaitTimeoutMs, asking);
  // Kept on the purchase (a table already), not in a second one; error replies go back as they
  // are: callSlot follows a MOVED or an ASK.
  p.replicas = replicas;
  return $multi(res, err);
}

/** The one round trip, on the shopper's bucket; `usedChallenge` is given for sales with a challenge, `passEpoch` for sales with a waiting room. */
export function purchaseInRedis(c: CachedSale, bucket: CachedBucket, userId: string, quantity: number, requestId: string, usedChallenge: UsedChallengeMark | undefined, passEpoch: number | undefined): PurchaseReply {
  const sale = c.sale;
  const p: Purchase = {
    saleId: sale.id,
    userId,
    quantity,
    perUserLimit: sale.perUserLimit,
    requestId,
    openUnpaidBound: sale.deduction === "payment" ? (sale.limits.openUnpaidOrders as number) : 0,
    runId: "",
    passEpoch: passEpoch === undefined ? "" : string.format("%d", passEpoch),
    price: sale.price,
    currency: sale.currency,
    bucket,
    mark: usedChallenge === undefined ? undefined : { keys: [usedChallenge.key], args: [string.format("%d", usedChallenge.ttlMs)] },
    sent: false,
    replicas: undefined,
  };
  const [res, err] = callSlot(bucket.slot, runPurchase, p);
  if (res === undefined) return { outcome: p.sent ? "unknown" : "unavailable", error: tostring(err) };
  // An error reply: the script validates before it writes, so it wrote nothing.
  if (res === false || err !== undefined || typeof res !== "object") return { outcome: "unavailable", error: tostring(err) };
  const decoded = PURCHASE.decode(res);
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
