/**
 * Sale configs as published by the control plane, cached in each nginx worker and kept in
 * step with Redis by a timer: it polls the config version and epoch and reloads the records
 * when either changes (no nginx reload), and reads each sale's units left for the public view.
 * While Redis is unreachable the last known configs stay in force.
 *
 * A sale is forgotten (404) only when it was withdrawn: unpublish-config.lua records each
 * withdrawal in SALE_WITHDRAWALS_KEY. A record gone without one was lost by Redis (emptied,
 * restarted from less, a replica promoted without it, the keys deleted): the sale is held, each
 * of its calls answered 503, until the control plane has rebuilt it and published it again. The
 * version alone cannot tell the two apart: after a loss the control plane republishes the sales
 * one by one from a new counter, which soon passes the number a gateway knew while some sales
 * are still to come.
 *
 * Known race: a withdrawal that Redis loses before this worker has synced it (a delete, then
 * FLUSHALL within one sync period) leaves the sale held rather than forgotten: 503, nothing
 * sold, until nginx restarts (the control plane never publishes a deleted sale again).
 */
import { keySlot, parseRedirect } from "@flash-sale/contract/cluster";
import { bucketKeysOf, CONFIG_EPOCH_KEY, CONFIG_VERSION_KEY, SALE_CONFIGS_KEY, SALE_WITHDRAWALS_KEY, type SaleKeys } from "@flash-sale/contract/keys";
import { bucketOfUser } from "@flash-sale/contract/buckets";
import { parsePublishedSale, type PublishedSale } from "@flash-sale/contract/sale";
import { gcraPolicy, type GcraPolicy } from "@flash-sale/contract/gcra";
import { decodeJson, encodeJson } from "./json";
import { callNode, callSlot, nodeOfSlot, slotMapStale } from "./redis_connection";
import { clearSoldOut } from "./sold_out_flags";
import { flagsDict } from "./shared_dict";
import { observeRedis, redisClock, setClockSkew } from "./metrics";
import { clockSkewSeconds } from "@flash-sale/contract/metrics";
import { checkIn } from "./gateway_registry";
import { syncQueues } from "./waiting_room";

/** The keys of one stock bucket of a sale (core/buckets.ts), and their slot. */
export interface CachedBucket {
  /** Every key, by name: the scripts' KEYS are filled from it (contract/src/scripts). */
  keys: SaleKeys;
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
  userPolicy: GcraPolicy;
  /** Units left as last read from Redis (over all buckets); undefined until read. */
  approxLeft: number | undefined;
  /** Redis lost its record, not withdrawn: its calls answer 503 until it is published again. */
  held: boolean;
}

let sales = new LuaTable<string, CachedSale>();
let saleIds: string[] = [];
/** Each cached sale's record as published (JSON); a held sale's is the last one seen. */
let records = new LuaTable<string, string>();
/** The config version and epoch last synced; undefined until the first sync. */
let knownStamp: string | undefined;

export function cachedSale(saleId: string): CachedSale | undefined {
  return sales.get(saleId);
}

/** False until this worker has synced the configs once: an unknown sale may then exist. */
export function configsKnown(): boolean {
  return knownStamp !== undefined;
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

function cacheEntry(sale: PublishedSale, previous: CachedSale | undefined, held: boolean): CachedSale {
  const all = bucketKeysOf(sale.id, sale.stockBuckets);
  const buckets: CachedBucket[] = [];
  for (let b = 0; b < all.length; b++) {
    const bk = all[b] as SaleKeys;
    const before = previous !== undefined && previous.buckets.length === all.length ? previous.buckets[b] : undefined;
    buckets.push({
      keys: bk,
      slot: keySlot(bk.meta),
      approxLeft: before?.approxLeft,
    });
  }
  return {
    ...(buckets[0] as CachedBucket),
    sale,
    buckets,
    userPolicy: gcraPolicy(sale.limits.userRatePerSecond, sale.limits.userBurst),
    approxLeft: previous?.approxLeft,
    held,
  };
}

/** A record as the gateway read it, and whether Redis lost it (the last one seen). */
interface Published {
  sale: PublishedSale;
  json: string;
  held: boolean;
}

/**
 * The configs last synced, kept in the flags dict (shared dicts outlive a reload) so that the
 * workers a reload starts serve every live sale from their first request, not 404 until
 * their first sync, and hold the sales held. JSON: {"stamp": …, "configs": [id, json, …], "held": [id, …]}.
 */
const SNAPSHOT_KEY = "cfg:snapshot";

function saveSnapshot(stamp: string): void {
  const flat: string[] = [];
  const held: string[] = [];
  for (const id of saleIds) {
    flat.push(id, records.get(id) as string);
    if ((sales.get(id) as CachedSale).held) held.push(id);
  }
  const [ok, err] = flagsDict().set(SNAPSHOT_KEY, encodeJson({ stamp, configs: flat, held }));
  if (!ok) ngx.log(ngx.WARN, "sale config sync: cannot keep the configs for new workers (flags_dict_size?): ", tostring(err));
}

/** init_worker: start from the configs the previous workers synced, when there are any. */
export function restoreSnapshot(): void {
  const [raw] = flagsDict().get(SNAPSHOT_KEY);
  if (typeof raw !== "string") return;
  const snapshot = decodeJson(raw) as { stamp?: unknown; configs?: unknown; held?: unknown } | undefined;
  if (snapshot === undefined || typeof snapshot.stamp !== "string" || typeof snapshot.configs !== "object" || typeof snapshot.held !== "object") return;
  const held = new LuaTable<string, boolean>();
  for (const id of snapshot.held as string[]) held.set(id, true);
  const published = parseConfigs(snapshot.configs as string[]);
  for (const p of published) p.held = held.has(p.sale.id);
  applyConfigs(published);
  knownStamp = snapshot.stamp;
}

/** The records of a flat HGETALL reply the gateway can read; the others are logged and skipped. */
function parseConfigs(flat: string[]): Published[] {
  const published: Published[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const json = flat[i + 1] as string;
    const parsed = parsePublishedSale(decodeJson(json));
    if (typeof parsed === "string") {
      ngx.log(ngx.WARN, "sale config sync: skipping sale '", flat[i] as string, "': bad field ", parsed);
    } else {
      published.push({ sale: parsed, json, held: false });
    }
  }
  return published;
}

function applyConfigs(published: Published[]): void {
  const next = new LuaTable<string, CachedSale>();
  const nextRecords = new LuaTable<string, string>();
  const ids: string[] = [];
  for (const p of published) {
    const before = sales.get(p.sale.id);
    if (before !== undefined && before.held !== p.held) {
      if (p.held) ngx.log(ngx.WARN, "sale config sync: Redis lost the config of sale '", p.sale.id, "' (not withdrawn): held, 503, until it is published again");
      else ngx.log(ngx.NOTICE, "sale config sync: sale '", p.sale.id, "' is published again: no longer held");
    }
    next.set(p.sale.id, cacheEntry(p.sale, before, p.held));
    nextRecords.set(p.sale.id, p.json);
    ids.push(p.sale.id);
  }
  sales = next;
  records = nextRecords;
  saleIds = ids;
}

/** The cached sales missing from `published`. */
function missingFrom(published: Published[]): string[] {
  const present = new LuaTable<string, boolean>();
  for (const p of published) present.set(p.sale.id, true);
  const missing: string[] = [];
  for (const id of saleIds) if (!present.has(id)) missing.push(id);
  return missing;
}

/** Of the sales whose records are gone, those not withdrawn (Redis lost them). Errors as Redis gave them. */
function notWithdrawn(red: RestyRedis, gone: string[]): LuaMultiReturn<[string[] | undefined | false, string | undefined]> {
  if (gone.length === 0) return $multi(gone, undefined);
  const [marks, err] = red.hmget(SALE_WITHDRAWALS_KEY, ...gone);
  if (marks === undefined || marks === false) return $multi(marks, err);
  const lost: string[] = [];
  for (let i = 0; i < gone.length; i++) if (marks[i] === ngx.null) lost.push(gone[i] as string);
  return $multi(lost, undefined);
}

const CONFIG_SLOT = keySlot(CONFIG_VERSION_KEY);

/**
 * The config version and epoch as one stamp, and Redis' clock for the skew gauge, in one round
 * trip. An error reply is (false, Redis' message) as Redis gave it, so that a redirect is followed.
 */
function readStamp(red: RestyRedis): LuaMultiReturn<[string | undefined | false, string | undefined]> {
  red.init_pipeline(2);
  red.mget(CONFIG_VERSION_KEY, CONFIG_EPOCH_KEY);
  red.time();
  const sentAt = redisClock();
  const [replies, err] = red.commit_pipeline();
  if (replies === undefined) return $multi(undefined, "MGET version, TIME: " + tostring(err));
  const stamp = replies[0] as unknown[];
  // An error reply in a pipeline is {false, message}.
  if (stamp[0] === false) return $multi(false, tostring(stamp[1]));
  const clock = replies[1] as unknown[];
  const seconds = typeof clock === "object" ? tonumber(clock[0]) : undefined;
  const micros = typeof clock === "object" ? tonumber(clock[1]) : undefined;
  if (seconds !== undefined && micros !== undefined) setClockSkew(clockSkewSeconds(sentAt, redisClock(), seconds, micros));
  // No version (yet, or any more) and no epoch read as "-".
  return $multi(tostring(stamp[0] === ngx.null ? "-" : stamp[0]) + "@" + tostring(stamp[1] === ngx.null ? "-" : stamp[1]), undefined);
}

/**
 * On the node of {fs:config}: the stamp, and the configs when it moved. Errors as Redis gave them
 * (redirects). Each read may race a publish or a loss; the stamp then moves again and the next
 * round reads once more.
 */
function syncConfigs(this: void, red: RestyRedis): LuaMultiReturn<[unknown, string | undefined]> {
  const checkInErr = checkIn(red, ngx.now() * 1000);
  if (checkInErr !== undefined) return $multi(parseRedirect(checkInErr) !== undefined ? false : undefined, checkInErr);
  const [stamp, err] = readStamp(red);
  if (stamp === undefined || stamp === false) return $multi(stamp, err);
  if (stamp === knownStamp) return $multi(true, undefined);
  const [flat, flatErr] = red.hgetall(SALE_CONFIGS_KEY);
  if (flat === undefined || flat === false) return $multi(flat, flatErr);
  const published = parseConfigs(flat);
  const [lost, lostErr] = notWithdrawn(red, missingFrom(published));
  if (lost === undefined || lost === false) return $multi(lost, lostErr);
  for (const id of lost) published.push({ sale: (sales.get(id) as CachedSale).sale, json: records.get(id) as string, held: true });
  applyConfigs(published);
  knownStamp = stamp;
  saveSnapshot(stamp);
  return $multi(true, undefined);
}

/** One pipeline of GETs on one node: the units left of its sales' buckets. */
function readUnitsLeft(this: void, red: RestyRedis, _runId: string, _asking: boolean, entries: CachedBucket[]): LuaMultiReturn<[unknown, string | undefined]> {
  red.init_pipeline(entries.length);
  for (const entry of entries) red.get(entry.keys.stock);
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
