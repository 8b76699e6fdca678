/**
 * Records the gateway's metrics (core/metrics.ts) in the fs_metrics shared dict, shared by all
 * workers, with `incr(key, n, 0)`: atomic per key, created on first use.
 *
 * Cheap on the hot path: dict keys are built once per worker and label combination and kept in
 * tables, so a request concatenates no strings. A histogram observation is two increments
 * (its bucket and its sum), so a scrape that lands between them may see a sum one observation
 * ahead of the buckets; Prometheus tolerates that. An increment that fails (the dict is full
 * and the key cannot be stored) is dropped: metrics never fail a request.
 */
import {
  CLOCK_SKEW,
  REDIS_BUCKETS,
  REDIS_DURATION,
  REDIS_ERRORS,
  REQUEST_BUCKETS,
  REQUEST_DURATION,
  REQUESTS,
  SALE_PURCHASE_BUCKETS,
  SALE_PURCHASE_DURATION,
  bucketOfTime,
  bucketsByMillisecond,
  metricKey,
  type MetricFamily,
  type RedisOp,
} from "@flash-sale/contract/metrics";
import { metricsDict } from "./shared_dict";

/** Keys of one histogram label value: bucket keys (0-based like bucketIndex) and the sum key. */
interface HistogramKeys {
  buckets: LuaTable<number, string>;
  sum: string;
}

function histogramKeys(family: MetricFamily, bounds: number[], label: string): HistogramKeys {
  const buckets = new LuaTable<number, string>();
  for (let i = 0; i <= bounds.length; i++) buckets.set(i, metricKey(family, label, string.format("%d", i)));
  return { buckets, sum: metricKey(family, label, "sum") };
}

const requestHistograms = new LuaTable<string, HistogramKeys>();
const saleHistograms = new LuaTable<string, HistogramKeys>();
const redisHistograms = new LuaTable<string, HistogramKeys>();
const redisErrorKeys = new LuaTable<string, string>();
/** route → sale → outcome → key. */
const requestKeys = new LuaTable<string, LuaTable<string, LuaTable<string, string>>>();

const requestBucketsByMs = bucketsByMillisecond(REQUEST_BUCKETS);
const redisBucketsByMs = bucketsByMillisecond(REDIS_BUCKETS);
const saleBucketsByMs = bucketsByMillisecond(SALE_PURCHASE_BUCKETS);

function observe(keys: HistogramKeys, bucketsByMs: number[], seconds: number): void {
  const d = metricsDict();
  d.incr(keys.buckets.get(bucketOfTime(bucketsByMs, seconds)), 1, 0);
  d.incr(keys.sum, seconds, 0);
}

function requestKey(route: string, sale: string, outcome: string): string {
  let bySale = requestKeys.get(route);
  if (bySale === undefined) {
    bySale = new LuaTable();
    requestKeys.set(route, bySale);
  }
  let byOutcome = bySale.get(sale);
  if (byOutcome === undefined) {
    byOutcome = new LuaTable();
    bySale.set(sale, byOutcome);
  }
  let key = byOutcome.get(outcome);
  if (key === undefined) {
    key = metricKey(REQUESTS, route, sale + "|" + outcome);
    byOutcome.set(outcome, key);
  }
  return key;
}

/** One answered request of the public server. `sale` must be a published sale's id or "". */
export function countRequest(route: string, sale: string, outcome: string, seconds: number): void {
  metricsDict().incr(requestKey(route, sale, outcome), 1, 0);
  let keys = requestHistograms.get(route);
  if (keys === undefined) {
    keys = histogramKeys(REQUEST_DURATION, REQUEST_BUCKETS, route);
    requestHistograms.set(route, keys);
  }
  observe(keys, requestBucketsByMs, seconds);
}

/** One answered purchase of a published sale synced here (never a made-up id: the keys would grow). */
export function observeSalePurchase(sale: string, seconds: number): void {
  let keys = saleHistograms.get(sale);
  if (keys === undefined) {
    keys = histogramKeys(SALE_PURCHASE_DURATION, SALE_PURCHASE_BUCKETS, sale);
    saleHistograms.set(sale, keys);
  }
  observe(keys, saleBucketsByMs, seconds);
}

/** The clock a Redis round trip is timed with: refreshed first, since the cached one lags. */
export function redisClock(): number {
  ngx.update_time();
  return ngx.now();
}

/** One Redis round trip that started at `startedAt` (redisClock()) and ended now. */
export function observeRedis(op: RedisOp, startedAt: number, ok: boolean): void {
  let keys = redisHistograms.get(op);
  if (keys === undefined) {
    keys = histogramKeys(REDIS_DURATION, REDIS_BUCKETS, op);
    redisHistograms.set(op, keys);
  }
  observe(keys, redisBucketsByMs, redisClock() - startedAt);
  if (!ok) {
    let key = redisErrorKeys.get(op);
    if (key === undefined) {
      key = metricKey(REDIS_ERRORS, op, "");
      redisErrorKeys.set(op, key);
    }
    metricsDict().incr(key, 1, 0);
  }
}

/** The clock skew against Redis (core/metrics.ts CLOCK_SKEW), last measured by any worker. */
export function setClockSkew(seconds: number): void {
  metricsDict().set(CLOCK_SKEW.code, seconds);
}
