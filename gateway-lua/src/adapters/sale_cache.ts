/**
 * Sale configs as published by the control plane, cached in each nginx worker and kept in
 * step with Redis by a timer: it polls the config version and reloads the records when it
 * changes (no nginx reload), and reads each sale's units left for the public view.
 * While Redis is unreachable the last known configs stay in force.
 */
import { CONFIG_VERSION_KEY, SALE_CONFIGS_KEY, saleKeys } from "../core/keys";
import { parsePublishedSale, type PublishedSale } from "../core/sale";
import { gcraPolicy, type GcraPolicy } from "../core/gcra";
import { decodeJson, encodeJson } from "./json";
import { discardRedis, openRedis, releaseRedis } from "./redis_connection";
import { clearSoldOut } from "./sold_out_flags";
import { flagsDict } from "./shared_dict";
import { observeRedis, redisClock } from "./metrics";
import { checkIn } from "./gateway_registry";
import { queueKeysOf, syncQueues } from "./waiting_room";

export interface CachedSale {
  sale: PublishedSale;
  stockKey: string;
  soldKey: string;
  buyersKey: string;
  orderSeqKey: string;
  ordersKey: string;
  streamKey: string;
  openUnpaidKey: string;
  metaKey: string;
  /** KEYS of the waiting room's scripts (adapters/waiting_room.ts). */
  queuePlaceKeys: string[];
  queueTickKeys: string[];
  userPolicy: GcraPolicy;
  /** Units left as last read from Redis; undefined until read. */
  approxLeft: number | undefined;
}

let sales = new LuaTable<string, CachedSale>();
let saleIds: string[] = [];
let knownVersion: string | undefined;

export function cachedSale(saleId: string): CachedSale | undefined {
  return sales.get(saleId);
}

/** Every cached sale, in a new array the caller may sort. */
export function cachedSales(): CachedSale[] {
  const out: CachedSale[] = [];
  for (const id of saleIds) out.push(sales.get(id) as CachedSale);
  return out;
}

function cacheEntry(sale: PublishedSale, previous: CachedSale | undefined): CachedSale {
  const k = saleKeys(sale.id);
  const queueKeys = queueKeysOf(sale.id);
  return {
    sale,
    stockKey: k.stock,
    soldKey: k.sold,
    buyersKey: k.buyers,
    orderSeqKey: k.orderSeq,
    ordersKey: k.orders,
    streamKey: k.stream,
    openUnpaidKey: k.openUnpaid,
    metaKey: k.meta,
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

function reloadConfigs(red: RestyRedis, version: string): string | undefined {
  const [flat, err] = red.hgetall(SALE_CONFIGS_KEY);
  if (flat === undefined || flat === false) return "HGETALL: " + tostring(err);
  applyConfigs(flat);
  saveSnapshot(version, flat);
  return undefined;
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

function refreshUnitsLeft(red: RestyRedis): string | undefined {
  if (saleIds.length === 0) return undefined;
  red.init_pipeline(saleIds.length);
  for (const id of saleIds) red.get((sales.get(id) as CachedSale).stockKey);
  const [replies, err] = red.commit_pipeline();
  if (replies === undefined) return "stock pipeline: " + tostring(err);
  for (let i = 0; i < saleIds.length; i++) {
    const entry = sales.get(saleIds[i] as string) as CachedSale;
    const left = tonumber(replies[i]);
    entry.approxLeft = left;
    if (left !== undefined && left > 0) clearSoldOut(entry.sale.id);
  }
  return undefined;
}

function syncOnce(red: RestyRedis): string | undefined {
  const checkInErr = checkIn(red, ngx.now() * 1000);
  if (checkInErr !== undefined) return checkInErr;
  const [version, err] = red.get(CONFIG_VERSION_KEY);
  if (version === undefined || version === false) return "GET version: " + tostring(err);
  // No version at all while configs are known: Redis lost them (emptied, or a replica that
  // had none). Keep serving the last ones: their purchases are held by the scripts (503) until
  // the control plane has rebuilt the sales and published them again.
  if (version === ngx.null && knownVersion !== undefined) return refreshUnitsLeft(red);
  const v = version === ngx.null ? "0" : (version as string);
  if (v !== knownVersion) {
    const reloadErr = reloadConfigs(red, v);
    if (reloadErr !== undefined) return reloadErr;
    knownVersion = v;
  }
  return refreshUnitsLeft(red) ?? syncQueues(red, cachedSales(), ngx.now() * 1000);
}

let lastFailure: string | undefined;

/** Timer callback: one sync round; logs a failure once until it changes or clears. */
export function syncSales(this: void, premature: boolean): void {
  if (premature) return;
  const startedAt = redisClock();
  const [red, connectErr] = openRedis();
  let failure: string | undefined = connectErr;
  if (red !== undefined) {
    failure = syncOnce(red);
    if (failure === undefined) releaseRedis(red);
    else discardRedis(red);
  }
  observeRedis("config_sync", startedAt, failure === undefined);
  if (failure !== undefined && failure !== lastFailure) {
    ngx.log(ngx.WARN, "sale config sync failed (keeping the last configs): ", failure);
  } else if (failure === undefined && lastFailure !== undefined) {
    ngx.log(ngx.NOTICE, "sale config sync recovered");
  }
  lastFailure = failure;
}
