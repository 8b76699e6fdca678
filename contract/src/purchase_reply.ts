/**
 * The replies of redis-scripts/order/purchase.lua (its header lists them), decoded once for the
 * gateway (POST /api/sales/{id}/purchase) and for the tests that run the script from Node.
 */
import { namesByCode } from "./scripts/script";

export type PurchaseScriptOutcome =
  | "accepted"
  | "sold_out"
  | "limit_reached"
  | "not_enough_left"
  | "not_loaded"
  | "challenge_used"
  | "too_many_unpaid"
  | "held"
  | "not_open"
  | "stale_pass"
  /** Stock buckets: the shopper's bucket is empty and another may hold units (not sold out). */
  | "bucket_empty";

/** The reply codes (the script's first element) by outcome; `held` is -1 in every script. */
export const PURCHASE_CODES: Readonly<Record<PurchaseScriptOutcome, number>> = {
  accepted: 0,
  sold_out: 1,
  limit_reached: 2,
  not_enough_left: 3,
  not_loaded: 4,
  challenge_used: 5,
  too_many_unpaid: 6,
  held: -1,
  not_open: 8,
  stale_pass: 9,
  bucket_empty: 10,
};

const OUTCOME_BY_CODE = namesByCode(PURCHASE_CODES);

export interface PurchaseScriptReply {
  outcome: PurchaseScriptOutcome;
  /** For `accepted`: "<sale id>.<epoch>.<n>". */
  orderId?: string;
  /** For `accepted` (after the order) and `not_enough_left`. */
  unitsLeft?: number;
  /** For `not_open`: "upcoming", "ended" or "paused" by Redis' clock and state. */
  window?: string;
}

/**
 * The reply as one table (the gateway hands it on as its own answer: no second table per
 * purchase); undefined when the reply is none of the script's.
 */
export function decodePurchaseReply(reply: unknown): PurchaseScriptReply | undefined {
  if (typeof reply !== "object" || reply === null) return undefined;
  const r = reply as unknown[];
  const code = r[0];
  const outcome = typeof code === "number" ? OUTCOME_BY_CODE[code] : undefined;
  if (outcome === undefined) return undefined;
  if (outcome === "accepted") {
    const orderId = r[1];
    const unitsLeft = r[2];
    if (typeof orderId !== "string" || typeof unitsLeft !== "number") return undefined;
    return { outcome, orderId, unitsLeft };
  }
  if (outcome === "not_open") return { outcome, window: r[1] as string };
  return { outcome, unitsLeft: r[1] as number | undefined };
}
