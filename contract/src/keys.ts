/**
 * The Redis key layout, defined once for the gateway (through TSTL) and the Node services.
 * Every key of a sale carries the hash tag {sale:<id>} so the whole sale sits on one
 * Redis Cluster slot and the purchase script may touch all of them atomically. A sale split in
 * stock buckets (buckets.ts) has one such set of keys per bucket, each on its bucket's tag;
 * bucket 0 is the sale's own and the only one whose waiting-room keys are used.
 */
import { bucketTag } from "./buckets";

/**
 * Hash: sale id → published config JSON (see PublishedSale). It shares the hash tag
 * {fs:config} with the version counter so one script may write both on a Redis Cluster.
 */
export const SALE_CONFIGS_KEY = "{fs:config}:sales";
/** Counter bumped on every publish; gateways poll it to notice new configs. */
export const CONFIG_VERSION_KEY = "{fs:config}:version";
/**
 * When the version counter was started (Redis TIME, written by the script that creates it): a new
 * one tells the gateways that Redis lost the configs, even where the new counter has come back
 * to the number they knew.
 */
export const CONFIG_EPOCH_KEY = "{fs:config}:epoch";
/**
 * Hash: sale id → the config version that withdrew its record (a delete), until it is published
 * again. A record gone without one was lost by Redis: the gateways hold that sale (503) until it
 * is published again, instead of forgetting it (404).
 */
export const SALE_WITHDRAWALS_KEY = "{fs:config}:withdrawn";
/**
 * The fleet of gateways (hash tag {fs:config}): a sorted set of gateway id → when it last
 * checked in (epoch ms), and a hash of gateway id → its metrics URL. A sale's admitPerSecond
 * is shared by the live ones; the control plane sums their metrics for the live page.
 */
export const GATEWAYS_KEY = "{fs:config}:gateways";
export const GATEWAY_METRICS_URLS_KEY = "{fs:config}:gateway-metrics";
/** A gateway that has not checked in for this long is no longer counted. */
export const GATEWAY_LIVENESS_MS = 5000;
/**
 * Hash: the shop's identity provider's key set as the control plane last fetched and validated
 * it (control-plane/src/auth/jwks-refresher.ts): `set` = {"keys": [JWK…], "issuer", "audience",
 * "leewaySeconds"} as JSON, `stamp` = its SHA-256 (hex), which the gateways poll. Rewritten after
 * each fetch, so a Redis that lost it has it back within a refresh; until then the gateways keep
 * the set they hold. `fetches` numbers the control planes' fetches and `fetch` is the number of
 * the one written: a set fetched earlier never replaces it (redis-scripts/config/publish-jwks.lua).
 */
export const JWKS_KEY = "{fs:config}:jwks";
/** String, with a time to live: a gateway saw a token whose `kid` the set lacks; the control plane fetches the set soon (rate-limited). */
export const JWKS_UNKNOWN_KID_KEY = "{fs:config}:jwks-unknown-kid";
/** Consumer group the order workers read every sale's stream with. */
export const ORDER_CONSUMER_GROUP = "order-workers";
/** Counter the benchmark's one-Redis-round-trip ceiling increments. */
export const BENCH_CEILING_KEY = "fs:bench:ceiling";

export interface SaleKeys {
  /**
   * Hash: the sale's state in this Redis. `fence` = "<run id>:<epoch>": the Redis process
   * (INFO run_id) the state was built on, and the epoch Postgres issued for that build; a
   * missing fence, or one naming another process (a restart, a failover, an emptied instance),
   * holds the sale until the control plane rebuilds it from Postgres. `startsAt`, `endsAt`
   * (epoch ms), `paused` ("0"/"1") and `revision` (the sale's revision in Postgres they come
   * from): the window the scripts judge by Redis' clock.
   */
  meta: string;
  /** String: units left to take. */
  stock: string;
  /**
   * String: units taken (at acceptance; `reserve` mode: an expired order gives its units back;
   * `payment` mode: at payment).
   */
  sold: string;
  /** String: units paid for (`reserve`, `payment` modes); units reserved = sold − paid. */
  paid: string;
  /** String: orders accepted and not yet paid, failed or expired (`payment` mode), bounded. */
  openUnpaid: string;
  /** Hash: user id → units this user has been granted. */
  buyers: string;
  /** String: last order number handed out. */
  orderSeq: string;
  /**
   * Hash: `<n>` → order record (core/order_record.ts: user, quantity, acceptedAtMs, epoch, price, currency), `<n>:s` → status.
   * Numbers go on across epochs (a rebuild sets the counter to the highest known), so a field
   * holds one known order; the epoch in the record tells it from a forgotten one of that number.
   */
  orders: string;
  /**
   * Hash: user id → that user's order numbers in this sale, space-separated, oldest first
   * (written with the order by the purchase script; restored by the builder): GET /api/orders.
   */
  userOrders: string;
  /** Stream: accepted orders waiting for the worker (see stream.ts). */
  stream: string;
  /** String: the last order number the reservation expiry has walked past. */
  expiryCursor: string;
  /**
   * Stream: order status changes (paid, expired, failed; fields in stream.ts), read by the order
   * workers through ORDER_CONSUMER_GROUP like `stream` and applied to the orders rows.
   */
  statusChanges: string;
  /**
   * Sorted set, the waiting room: user id → place. Joiners before the start get a random score
   * below 2^48 (their order is drawn by it), later ones 2^48 + their arrival number; a shopper's
   * position is their rank + 1. A shopper who joins again after a turn over unused is the member
   * "<user id> <k>" (their k-th rejoin) at the back.
   */
  queue: string;
  /**
   * Hash, the waiting room's admission: `arrivals` (joiners since the start), `cursor` (shoppers
   * admitted, fractional), `tickAt` (Redis ms it was last advanced), `settled` (positions whose
   * pass time is over), `expired` (of those, passes that went unused), `rejoins:<user id>` (k).
   */
  queueState: string;
  /**
   * Sorted set: when the cursor passed each value, for passes' expiry: score = cursor after an
   * advance, member = "<cursor>:<Redis ms>". Entries are dropped once settled.
   */
  admissions: string;
  /**
   * Hash, stock buckets only: the bucket's side of the units moved between buckets
   * (redis-scripts/sale/bucket-transfer-*.lua). `out:<id>` → "<to bucket> <units>
   * <epoch>" on the bucket they left, until the move is finished; `in:<id>` → units on the
   * bucket they reached, kept so a move is applied once.
   */
  transfers: string;
}

/** The keys of bucket `bucket` (0 ≤ bucket < buckets) of a sale; bucket 0 of 1 is the whole sale. */
export function saleKeys(saleId: string, bucket = 0, buckets = 1): SaleKeys {
  const tag = "fs:{" + bucketTag(saleId, bucket, buckets) + "}:";
  return {
    stock: tag + "stock",
    sold: tag + "sold",
    buyers: tag + "buyers",
    meta: tag + "meta",
    orderSeq: tag + "seq",
    orders: tag + "orders",
    userOrders: tag + "user-orders",
    stream: tag + "stream",
    paid: tag + "paid",
    openUnpaid: tag + "open-unpaid",
    expiryCursor: tag + "expiry-cursor",
    statusChanges: tag + "status-changes",
    queue: tag + "queue",
    queueState: tag + "queue-state",
    admissions: tag + "admissions",
    transfers: tag + "transfers",
  };
}

/** The keys of every bucket of a sale split in `buckets`, bucket 0 first. */
export function bucketKeysOf(saleId: string, buckets: number): SaleKeys[] {
  const all: SaleKeys[] = [];
  for (let b = 0; b < Math.max(buckets, 1); b++) all.push(saleKeys(saleId, b, buckets));
  return all;
}

/**
 * String, set when a purchase used the challenge with this nonce (see core/challenge.ts),
 * kept until the challenge expires: the purchase script's optional tenth key, so that a
 * solved challenge buys once across all gateways.
 */
export function usedChallengeKey(saleId: string, nonce: string, bucket = 0, buckets = 1): string {
  return "fs:{" + bucketTag(saleId, bucket, buckets) + "}:challenge:" + nonce;
}

/** Field of the orders hash holding an order's record (see SaleKeys.orders). */
export function orderRecordField(orderNo: string): string {
  return orderNo;
}

/** Field of the orders hash holding an order's status. */
export function orderStatusField(orderNo: string): string {
  return orderNo + ":s";
}

/**
 * String set for each payment webhook delivery accepted (by its signature), kept while the
 * delivery's timestamp is inside the skew window: a replayed delivery finds it and is refused.
 */
export function webhookDeliveryKey(signature: string): string {
  return "{fs:payments}:webhook:" + signature;
}

/**
 * The control plane's scheduled jobs, shared by its instances (hash tag {fs:jobs}, one slot):
 * `lease` holds the token of the instance running the job (with an expiry, so a crashed
 * owner frees it), `lastTick` the scheduled time (epoch ms) of the last tick that ran.
 */
export function jobKeys(job: string): { lease: string; lastTick: string } {
  return { lease: "{fs:jobs}:" + job + ":lease", lastTick: "{fs:jobs}:" + job + ":tick" };
}
