/**
 * Sale configs as published by the control plane, cached in each nginx worker and kept in
 * step with Redis by a timer: it polls the config version and reloads the records when it
 * changes (no nginx reload), and reads each sale's units left for the public view.
 * While Redis is unreachable the last known configs stay in force.
 */
import { CONFIG_VERSION_KEY, SALE_CONFIGS_KEY, saleKeys } from "../core/keys";
import { parsePublishedSale, type PublishedSale } from "../core/sale";
import { gcraPolicy, type GcraPolicy } from "../core/gcra";
import { decodeJson } from "./json";
import { discardRedis, openRedis, releaseRedis } from "./redis_connection";
import { clearSoldOut } from "./sold_out_flags";

export interface CachedSale {
  sale: PublishedSale;
  stockKey: string;
  soldKey: string;
  buyersKey: string;
  orderSeqKey: string;
  ordersKey: string;
  streamKey: string;
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

function cacheEntry(sale: PublishedSale, previous: CachedSale | undefined): CachedSale {
  const k = saleKeys(sale.id);
  return {
    sale,
    stockKey: k.stock,
    soldKey: k.sold,
    buyersKey: k.buyers,
    orderSeqKey: k.orderSeq,
    ordersKey: k.orders,
    streamKey: k.stream,
    userPolicy: gcraPolicy(sale.limits.userRatePerSecond, sale.limits.userBurst),
    approxLeft: previous?.approxLeft,
  };
}

function reloadConfigs(red: RestyRedis): string | undefined {
  const [flat, err] = red.hgetall(SALE_CONFIGS_KEY);
  if (flat === undefined || flat === false) return "HGETALL: " + tostring(err);
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
  return undefined;
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
  const [version, err] = red.get(CONFIG_VERSION_KEY);
  if (version === undefined || version === false) return "GET version: " + tostring(err);
  const v = version === ngx.null ? "0" : (version as string);
  if (v !== knownVersion) {
    const reloadErr = reloadConfigs(red);
    if (reloadErr !== undefined) return reloadErr;
    knownVersion = v;
  }
  return refreshUnitsLeft(red);
}

let lastFailure: string | undefined;

/** Timer callback: one sync round; logs a failure once until it changes or clears. */
export function syncSales(this: void, premature: boolean): void {
  if (premature) return;
  const [red, connectErr] = openRedis();
  let failure: string | undefined = connectErr;
  if (red !== undefined) {
    failure = syncOnce(red);
    if (failure === undefined) releaseRedis(red);
    else discardRedis(red);
  }
  if (failure !== undefined && failure !== lastFailure) {
    ngx.log(ngx.WARN, "sale config sync failed (keeping the last configs): ", failure);
  } else if (failure === undefined && lastFailure !== undefined) {
    ngx.log(ngx.NOTICE, "sale config sync recovered");
  }
  lastFailure = failure;
}
