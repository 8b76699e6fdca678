/**
 * The gateway's Prometheus metrics: names, help texts, histogram buckets and how a counter's
 * key in the metrics shared dict is spelled. Defined once, for the Lua recorder and exporter
 * and for the Node tests that read /metrics.
 *
 * A dict key is `<family code>|<label>|<label or bucket>`. Label values never hold `|`:
 * routes and outcomes are fixed words, sale ids are slugs (see isValidSaleId).
 */

export interface MetricFamily {
  code: string;
  name: string;
  type: "counter" | "histogram" | "gauge";
  help: string;
  /** Label names, in key order; a histogram's last key part is its bucket (or `sum`). */
  labels: string[];
}

export const REQUESTS: MetricFamily = {
  code: "req",
  name: "fs_gateway_requests_total",
  type: "counter",
  help: "Requests answered by the public server, by route, sale (empty when none or unknown) and outcome.",
  labels: ["route", "sale", "outcome"],
};

export const REQUEST_DURATION: MetricFamily = {
  code: "lat",
  name: "fs_gateway_request_duration_seconds",
  type: "histogram",
  help: "Time from the request's first byte to the log phase, by route (nginx clock: millisecond resolution).",
  labels: ["route"],
};

export const SALE_PURCHASE_DURATION: MetricFamily = {
  code: "spd",
  name: "fs_gateway_sale_purchase_duration_seconds",
  type: "histogram",
  help: "Time from a purchase's first byte to the log phase, by sale (published sales synced here only), every answer: the sale report's latency percentiles (nginx clock: millisecond resolution).",
  labels: ["sale"],
};

export const REDIS_DURATION: MetricFamily = {
  code: "rds",
  name: "fs_gateway_redis_duration_seconds",
  type: "histogram",
  help: "Time of one Redis round trip from a worker, connection included, by operation (millisecond resolution).",
  labels: ["op"],
};

export const REDIS_ERRORS: MetricFamily = {
  code: "rde",
  name: "fs_gateway_redis_errors_total",
  type: "counter",
  help: "Redis round trips that failed (connect, timeout, error reply), by operation.",
  labels: ["op"],
};

/** Families recorded in the dict, in the order /metrics lists them. */
export const RECORDED_FAMILIES: MetricFamily[] = [REQUESTS, REQUEST_DURATION, SALE_PURCHASE_DURATION, REDIS_DURATION, REDIS_ERRORS];

/** Gauges read from the shared dicts at scrape time. */
export const DICT_CAPACITY: MetricFamily = {
  code: "",
  name: "fs_gateway_shared_dict_capacity_bytes",
  type: "gauge",
  help: "Size of each lua_shared_dict (knobs.conf *_dict_size).",
  labels: ["dict"],
};
export const DICT_FREE: MetricFamily = {
  code: "",
  name: "fs_gateway_shared_dict_free_bytes",
  type: "gauge",
  help: "Free pages of each lua_shared_dict; near 0 means the dict evicts its oldest entries.",
  labels: ["dict"],
};

/**
 * Set by the config sync, one value per gateway. The sale's window is judged by Redis' clock;
 * the gateway's own early refusals (425, 410) by its own, so a skewed gateway refuses wrongly.
 */
export const CLOCK_SKEW: MetricFamily = {
  code: "skw",
  name: "fs_gateway_clock_skew_seconds",
  type: "gauge",
  help: "This gateway's clock (ngx.now) minus Redis' (TIME), read by the config sync and corrected by half its round trip.",
  labels: [],
};

/**
 * The gateway's clock minus Redis', in seconds, from one round trip sent at `sentAt` and answered
 * at `receivedAt` (gateway seconds): Redis read its clock about half-way between them.
 */
export function clockSkewSeconds(sentAt: number, receivedAt: number, redisSeconds: number, redisMicros: number): number {
  return (sentAt + receivedAt) / 2 - (redisSeconds + redisMicros / 1e6);
}

/**
 * A waiting room's figures, read at scrape time from the state the gateway synced from Redis:
 * the fleet's, so every gateway shows the same (take max, not sum, over gateways).
 */
export const QUEUE_GAUGES: MetricFamily[] = [
  { code: "", name: "fs_gateway_queue_length", type: "gauge", help: "Shoppers in the sale's waiting room.", labels: ["sale"] },
  { code: "", name: "fs_gateway_queue_admitted", type: "gauge", help: "Shoppers admitted so far (rate() of it: the admission rate).", labels: ["sale"] },
  { code: "", name: "fs_gateway_queue_passes_used", type: "gauge", help: "Admitted shoppers who bought with their pass.", labels: ["sale"] },
  { code: "", name: "fs_gateway_queue_passes_expired", type: "gauge", help: "Passes that expired unused (their places went to the next shoppers).", labels: ["sale"] },
  { code: "", name: "fs_gateway_queue_admit_per_second", type: "gauge", help: "The waiting room's admission rate setting, shoppers per second over the fleet.", labels: ["sale"] },
];

/** Upper bounds (seconds) of the request latency buckets; +Inf is implied. */
export const REQUEST_BUCKETS: number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Upper bounds (seconds) of a sale's purchase latency buckets: few, since every sale has its own. */
export const SALE_PURCHASE_BUCKETS: number[] = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Upper bounds (seconds) of the Redis round-trip buckets; +Inf is implied. */
export const REDIS_BUCKETS: number[] = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** Redis operations the gateway times; /metrics lists each one's error counter even at 0. */
export type RedisOp = "purchase" | "order_lookup" | "order_list" | "eligibility" | "pay" | "config_sync" | "queue_place";
export const REDIS_OPS: RedisOp[] = ["purchase", "order_lookup", "order_list", "eligibility", "pay", "config_sync", "queue_place"];

/**
 * Index of the bucket a value falls in: the first bound it does not exceed, or bounds.length
 * (the +Inf bucket). Buckets are stored apart and summed into Prometheus' cumulative form at
 * scrape time, so an observation costs one counter.
 */
export function bucketIndex(bounds: number[], value: number): number {
  for (let i = 0; i < bounds.length; i++) {
    if (value <= (bounds[i] as number)) return i;
  }
  return bounds.length;
}

/**
 * bucketIndex of every whole millisecond up to the last bound, then the +Inf bucket's index:
 * built once, so that an observation is a lookup (bucketOfTime) where bucketIndex's search loop,
 * run per request, aborted the compiled traces of its callers ("inner loop in root trace").
 */
export function bucketsByMillisecond(bounds: number[]): number[] {
  const last = Math.round((bounds[bounds.length - 1] as number) * 1000);
  const byMs: number[] = [];
  for (let ms = 0; ms <= last; ms++) byMs.push(bucketIndex(bounds, ms / 1000));
  byMs.push(bounds.length);
  return byMs;
}

/** The bucket of a time in seconds taken to its nearest millisecond (nginx's clock), from bucketsByMillisecond's table. */
export function bucketOfTime(byMs: number[], seconds: number): number {
  const ms = Math.min(Math.max(0, Math.floor(seconds * 1000 + 0.5)), byMs.length - 1);
  return byMs[ms] as number;
}

/** The dict key of a counter or histogram part: `code|a|b`. */
export function metricKey(family: MetricFamily, a: string, b: string): string {
  return family.code + "|" + a + "|" + b;
}

/** The `le` label of bucket i. */
export function bucketLabel(bounds: number[], i: number): string {
  return i < bounds.length ? String(bounds[i]) : "+Inf";
}
