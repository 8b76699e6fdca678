/**
 * Sale configs as published by the control plane, cached in each nginx worker and kept in
 * step with Redis by a timer: it polls the config version and reloads the records when it
 * changes (no nginx reload), and reads each sale's units left for the public view.
 * While Redis is unreachable the last known configs stay in force.
 */
import { keySlot, parseRedirect } from "../core/cluster";
import { bucketKeysOf, CONFIG_VERSION_KEY, SALE_CONFIGS_KEY, type SaleKeys } from "../core/keys";
import { bucketOfUser } from "../core/buckets";
import { parsePublishedSale, type PublishedSale } from "../core/sale";
import { gcraPolicy, type GcraPolicy } from "../core/gcra";
import { decodeJson, encodeJson } from "./json";
import { callNode, callSlot, nodeOfSlot, slotMapStale } from "./redis_connection";
import { clearSoldOut } from "./sold_out_flags";
import { flagsDict } from "./shared_dict";
import { observeRedis, redisClock, setClockSkew } from "./metrics";
import { clockSkewSeconds } from "../core/metrics";
import { checkIn } from "./gateway_registry";
import { queueKeysOf, syncQueues } from "./waiting_room";

/** The keys of one stock bucket of a sale (core/buckets.ts), and their slot. */
export interface CachedBucket {
  stockKey: string;
  soldKey: string;
  buyersKey: string;
  orderSeqKey: string;
  ordersKey: string;
  streamKey: string;
  openUnpaidKey: string;
  metaKey: string;
  userOrdersKey: string;
  slot: number;
  /** Units left in this bucket as last read from Redis; undefined until read. */
  approxLeft: number | undefined;
}

/**
 * A sale's config and, for bucket 0 (the whole sale when it has one bucket), its keys; `buckets`
 * holds every bucket's, bucket 0 first.
 */
export interface CachedSale extends Omit<CachedBucket, "approxLeft"> {
  sale: PublishedSale;
  buckets: CachedBucket[];
  /** KEYS of the waiting room's scripts (adapters/waiting_room.ts). */
  queuePlaceKeys: string[];
  queueTickKeys: string[];
  userPolicy: GcraPolicy;
  /** Units left as last read from Redis (over all buckets); undefined until read. */
  approxLeft: number | undefined;
}

let sales = new LuaTable<string, CachedSale>();
let saleIds: string[] = [];
let knownVersion: string | undefined;

export function cachedSale(saleId: string): CachedSale | undefined {
  return sales.get(saleId);
}

/** False until this worker has synced the configs once: an unknown sale may then exist. */
export function configsKnown(): boolean {
  return knownVersion !== undefined;
}

/** Every cached sale, in a new array the caller may sort. */
export function cachedSales(): CachedSale[] {
  const out: CachedSale[] = [];
  for (const id of saleIds) out.push(sales.get(id) as CachedSale);
  return out;
}

/** The bucket a shopper buys from, and whose orders are theirs. */
export function shopperBucket(c: CachedSale, userId: string): CachedBucket {
  return c.buckets.length === 1 ? (c.buckets[0] as CachedBucket) : (c.buckets[bucketOfUser(userId, c.buckets.length)] as CachedBucket);
}

function cacheEntry(sale: PublishedSale, previous: CachedSale | undefined): CachedSale {
  const all = bucketKeysOf(sale.id, sale.stockBuckets);
  const queueKeys = queueKeysOf(sale.id);
  const buckets: CachedBucket[] = [];
  for (let b = 0; b < all.length; b++) {
    const bk = all[b] as SaleKeys;
    const before = previous !== undefined && previous.buckets.length === all.length ? previous.buckets[b] : undefined;
    buckets.push({
      stockKey: bk.stock,
      soldKey: bk.sold,
      buyersKey: bk.buyers,
      orderSeqKey: bk.orderSeq,
      ordersKey: bk.orders,
      streamKey: bk.stream,
      openUnpaidKey: bk.openUnpaid,
      metaKey: bk.meta,
      userOrdersKey: bk.userOrders,
      slot: keySlot(bk.meta),
      approxLeft: before?.approxLeft,
    });
  }
  return {
    ...(buckets[0] as CachedBucket),
    sale,
    buckets,
    queuePlaceKeys: queueKeys.place,
    queueTickKeys: queueKeys.tick,
    userPolicy: gcraPolicy(sale.limits.userRatePerSecond, sale.limits.userBurst),
    approxLeft: previous?.approxLeft,
  };
}

/**
 * The configs last synced, kept in the flags dict (shared dicts outlive a reload) so that the
 * workers a reload starts serve every live sale from their first request, not 404 until
 * their first sync. JSON: {"version": …, "configs": [id, json, id, json, …]}.
 */
const SNAPSHOT_KEY = "cfg:snapshot";

function saveSnapshot(version: string, flat: string[]): void {
  const [ok, err] = flagsDict().set(SNAPSHOT_KEY, encodeJson({ version, configs: flat }));
  if (!ok) ngx.log(ngx.WARN, "sale config sync: cannot keep the configs for new workers (flags_dict_size?): ", tostring(err));
}

/** init_worker: start from the configs the previous workers synced, when there are any. */
export function restoreSnapshot(): void {
  const [raw] = flagsDict().get(SNAPSHOT_KEY);
  if (typeof raw !== "string") return;
  const snapshot = decodeJson(raw) as { version?: unknown; configs?: unknown } | undefined;
  if (snapshot === undefined || typeof snapshot.version !== "string" || typeof snapshot.configs !== "object") return;
  applyConfigs(snapshot.configs as string[]);
  knownVersion = snapshot.version;
}

function applyConfigs(flat: string[]): void {
  const next = new LuaTable<string, CachedSale>();
  const ids: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const id = flat[i] as string;
    const parsed = parsePublishedSale(decodeJson(flat[i + 1] as string));
    if (typeof parsed === "string") {
      ngx.log(ngx.WARN, "sale config sync: skipping sale '", id, "': bad field ", parsed);
    } else {
      next.set(parsed.id, cacheEntry(parsed, sales.get(parsed.id)));
      ids.push(parsed.id);
    }
  }
  sales = next;
  saleIds = ids;
}

const CONFIG_SLOT = keySlot(CONFIG_VERSION_KEY);

/**
 * The config version, and Redis' clock for the skew gauge, in one round trip. An error reply is
 * (false, Redis' message) as Redis gave it, so that a redirect is followed.
 */
function readVersion(red: RestyRedis): LuaMultiReturn<[string | NgxNull | undefined | false, string | undefined]> {
  red.init_pipeline(2);
  red.get(CONFIG_VERSION_KEY);
  red.time();
  const sentAt = redisClock();
  const [replies, err] = red.commit_pipeline();
  if (replies === undefined) return $multi(undefined, "GET version, TIME: " + tostring(err));
  const version = replies[0];
  // An error reply in a pipeline is {false, message}.
  if (typeof version === "object" && version !== ngx.null) return $multi(false, tostring((version as unknown[])[1]));
  const clock = replies[1] as unknown[];
  const seconds = typeof clock === "object" ? tonumber(clock[0]) : undefined;
  const micros = typeof clock === "object" ? tonumber(clock[1]) : undefined;
  if (seconds !== undefined && micros !== undefined) setClockSkew(clockSkewSeconds(sentAt, redisClock(), seconds, micros));
  return $multi(version as string | NgxNull, undefined);
}

/** On the node of {fs:config}: the version, and the configs when it moved. Errors as Redis gave them (redirects). */
function syncConfigs(this: void, red: RestyRedis): LuaMultiReturn<[unknown, string | undefined]> {
  const checkInErr = checkIn(red, ngx.now() * 1000);
  if (checkInErr !== undefined) return $multi(parseRedirect(checkInErr) !== undefined ? false : undefined, checkInErr);
  const [version, err] = readVersion(red);
  if (version === undefined || version === false) return $multi(version, err);
  // No version at all while configs are known: Redis lost them (emptied, or a replica that
  // had none). Keep serving the last ones: their purchases are held by the scripts (503) until
  // the control plane has rebuilt the sales and published them again.
  if (version === ngx.null && knownVersion !== undefined) return $multi(true, undefined);
  const v = version === ngx.null ? "0" : (version as string);
  if (v !== knownVersion) {
    const [flat, flatErr] = red.hgetall(SALE_CONFIGS_KEY);
    if (flat === undefined || flat === false) return $multi(flat, flatErr);
    applyConfigs(flat);
    saveSnapshot(v, flat);
    knownVersion = v;
  }
  return $multi(true, undefined);
}

/** One pipeline of GETs on one node: the units left of its sales' buckets. */
function readUnitsLeft(this: void, red: RestyRedis, _runId: string, _asking: boolean, entries: CachedBucket[]): LuaMultiReturn<[unknown, string | undefined]> {
  red.init_pipeline(entries.length);
  for (const entry of entries) red.get(entry.stockKey);
  const [replies, err] = red.commit_pipeline();
  if (replies === undefined) return $multi(undefined, err);
  for (let i = 0; i < entries.length; i++) {
    const reply = replies[i];
    // An error reply ({false, err}) is a MOVED after a failover or a reshard: read the map again.
    if (typeof reply === "object") {
      slotMapStale();
      continue;
    }
    (entries[i] as CachedBucket).approxLeft = tonumber(reply);
  }
  return $multi(true, undefined);
}

/** Units left of every sale (summed over its buckets), one pipeline per node. */
function refreshUnitsLeft(): string | undefined {
  const byNode = new LuaTable<string, CachedBucket[]>();
  const nodes: string[] = [];
  for (const id of saleIds) {
    for (const bucket of (sales.get(id) as CachedSale).buckets) {
      const [node, noNode] = nodeOfSlot(bucket.slot);
      if (node === undefined) return noNode;
      let list = byNode.get(node);
      if (list === undefined) {
        list = [];
        byNode.set(node, list);
        nodes.push(node);
      }
      list.push(bucket);
    }
  }
  let failure: string | undefined;
  for (const node of nodes) {
    const [ok, err] = callNode(node, readUnitsLeft, byNode.get(node) as CachedBucket[]);
    if (ok === undefined) failure = "units left on " + node + ": " + tostring(err);
  }
  for (const id of saleIds) {
    const entry = sales.get(id) as CachedSale;
    let left: number | undefined = 0;
    for (const bucket of entry.buckets) left = left === undefined || bucket.approxLeft === undefined ? undefined : left + bucket.approxLeft;
    entry.approxLeft = left;
    if (left !== undefined && left > 0) clearSoldOut(entry.sale.id);
  }
  return failure;
}

function syncOnce(): string | undefined {
  const [ok, err] = callSlot(CONFIG_SLOT, syncConfigs, undefined);
  if (ok !== true) return "config: " + tostring(err);
  return refreshUnitsLeft() ?? syncQueues(cachedSales(), ngx.now() * 1000);
}

let lastFailure: string | undefined;

/** Timer callback: one sync round; logs a failure once until it changes or clears. */
export function syncSales(this: void, premature: boolean): void {
  if (premature) return;
  const startedAt = redisClock();
  const failure = syncOnce();
  observeRedis("config_sync", startedAt, failure === undefined);
  if (failure !== undefined && failure !== lastFailure) {
    ngx.log(ngx.WARN, "sale config sync failed (keeping the last configs): ", failure);
  } else if (failure === undefined && lastFailure !== undefined) {
    ngx.log(ngx.NOTICE, "sale config sync recovered");
  }
  lastFailure = failure;
}
