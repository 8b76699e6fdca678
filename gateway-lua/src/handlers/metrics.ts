/**
 * GET /metrics on the internal metrics listener (knob metrics_listen): the counters of
 * core/metrics.ts in Prometheus' text format (version 0.0.4), for this gateway's workers
 * together. Histogram buckets are stored apart and summed into cumulative form here.
 *
 * get_keys locks the metrics dict while it copies the keys; that dict holds only metrics
 * (a few keys per sale × outcome), so the lock is short and never blocks the limiter dicts.
 */
import {
  CLOCK_SKEW,
  DICT_CAPACITY,
  DICT_FREE,
  QUEUE_GAUGES,
  RECORDED_FAMILIES,
  REDIS_BUCKETS,
  REDIS_DURATION,
  REDIS_ERRORS,
  REDIS_OPS,
  REQUEST_BUCKETS,
  REQUEST_DURATION,
  SALE_PURCHASE_BUCKETS,
  SALE_PURCHASE_DURATION,
  bucketLabel,
  type MetricFamily,
} from "@flash-sale/contract/metrics";
import { ALL_DICTS, metricsDict, sharedDict } from "../adapters/shared_dict";
import { cachedSales } from "../adapters/sale_cache";
import { queueState } from "../adapters/waiting_room";

/** The recorded histograms, in the order /metrics lists them, with their bucket bounds. */
const HISTOGRAMS: [MetricFamily, number[]][] = [
  [REQUEST_DURATION, REQUEST_BUCKETS],
  [SALE_PURCHASE_DURATION, SALE_PURCHASE_BUCKETS],
  [REDIS_DURATION, REDIS_BUCKETS],
];

/** One histogram's label value: its non-cumulative bucket counts and its sum. */
interface Histogram {
  counts: number[];
  sum: number;
}

function header(out: string[], f: MetricFamily): void {
  out.push("# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n");
}

function labelSet(f: MetricFamily, values: string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < f.labels.length; i++) parts.push(f.labels[i] + '="' + (values[i] ?? "") + '"');
  return table.concat(parts, ",");
}

function formatNumber(n: number): string {
  // Counters are whole; %.17g keeps every digit of large ones and of the float sums.
  return math.floor(n) === n && n < 1e15 ? string.format("%d", n) : string.format("%.17g", n);
}

/** The key's parts after the family code. */
function splitKey(key: string): string[] {
  const parts: string[] = [];
  for (const [part] of string.gmatch(key + "|", "([^|]*)|")) parts.push(part as string);
  return parts;
}

function renderHistogram(out: string[], f: MetricFamily, bounds: number[], byLabel: LuaTable<string, Histogram>, labelValues: string[]): void {
  header(out, f);
  for (const label of labelValues) {
    const h = byLabel.get(label);
    const labels = labelSet(f, [label]);
    let cumulative = 0;
    for (let i = 0; i <= bounds.length; i++) {
      cumulative += h.counts[i] ?? 0;
      out.push(f.name + "_bucket{" + labels + ',le="' + bucketLabel(bounds, i) + '"} ' + formatNumber(cumulative) + "\n");
    }
    out.push(f.name + "_sum{" + labels + "} " + formatNumber(h.sum) + "\n");
    out.push(f.name + "_count{" + labels + "} " + formatNumber(cumulative) + "\n");
  }
}

/** The waiting rooms' gauges (core/metrics.ts QUEUE_GAUGES, in that order), for sales synced here. */
function renderQueues(out: string[]): void {
  const lines: string[][] = [[], [], [], [], []];
  for (const c of cachedSales()) {
    const room = c.sale.waitingRoom;
    const q = room === undefined ? undefined : queueState(c.sale.id);
    if (room === undefined || q === undefined) continue;
    const labels = '{sale="' + c.sale.id + '"} ';
    const values = [q.length, q.admitted, q.buyers, q.expired, room.admitPerSecond];
    for (let i = 0; i < values.length; i++) (lines[i] as string[]).push((QUEUE_GAUGES[i] as MetricFamily).name + labels + formatNumber(values[i] as number) + "\n");
  }
  for (let i = 0; i < QUEUE_GAUGES.length; i++) {
    header(out, QUEUE_GAUGES[i] as MetricFamily);
    for (const line of lines[i] as string[]) out.push(line);
  }
}

export function handleMetrics(this: void): void {
  const d = metricsDict();
  const counterLines = new LuaTable<string, string[]>();
  for (const f of RECORDED_FAMILIES) counterLines.set(f.code, []);
  const histograms = new LuaTable<string, LuaTable<string, Histogram>>();
  const histogramLabels = new LuaTable<string, string[]>();
  for (const [f] of HISTOGRAMS) {
    histograms.set(f.code, new LuaTable());
    histogramLabels.set(f.code, []);
  }
  const errorsSeen = new LuaTable<string, boolean>();

  for (const key of d.get_keys(0)) {
    const [value] = d.get(key);
    if (typeof value !== "number") continue;
    const parts = splitKey(key);
    const code = parts.shift() as string;
    const family = RECORDED_FAMILIES.find((f) => f.code === code);
    if (family === undefined) continue;
    if (family.type === "counter") {
      if (family === REDIS_ERRORS) errorsSeen.set(parts[0] as string, true);
      (counterLines.get(code) as string[]).push(family.name + "{" + labelSet(family, parts) + "} " + formatNumber(value) + "\n");
    } else {
      const byLabel = histograms.get(code) as LuaTable<string, Histogram>;
      const label = parts[0] as string;
      let h = byLabel.get(label);
      if (h === undefined) {
        h = { counts: [], sum: 0 };
        byLabel.set(label, h);
        (histogramLabels.get(code) as string[]).push(label);
      }
      const bucket = parts[1] as string;
      if (bucket === "sum") h.sum = value;
      else h.counts[tonumber(bucket) as number] = value;
    }
  }
  // Error counters exist from the start, so that rate() sees their first increment.
  for (const op of REDIS_OPS) {
    if (!errorsSeen.get(op)) (counterLines.get(REDIS_ERRORS.code) as string[]).push(REDIS_ERRORS.name + "{" + labelSet(REDIS_ERRORS, [op]) + "} 0\n");
  }

  const out: string[] = [];
  for (const f of RECORDED_FAMILIES) {
    if (f.type === "counter") {
      header(out, f);
      for (const line of counterLines.get(f.code) as string[]) out.push(line);
    }
  }
  for (const [f, bounds] of HISTOGRAMS) {
    const labels = histogramLabels.get(f.code) as string[];
    if (labels.length > 0) renderHistogram(out, f, bounds, histograms.get(f.code), labels);
  }
  header(out, DICT_CAPACITY);
  for (const name of ALL_DICTS) out.push(DICT_CAPACITY.name + '{dict="' + name + '"} ' + formatNumber(sharedDict(name).capacity()) + "\n");
  header(out, DICT_FREE);
  for (const name of ALL_DICTS) out.push(DICT_FREE.name + '{dict="' + name + '"} ' + formatNumber(sharedDict(name).free_space()) + "\n");

  // Absent until the first config sync has read Redis' clock.
  const [skew] = d.get(CLOCK_SKEW.code);
  if (typeof skew === "number") {
    header(out, CLOCK_SKEW);
    out.push(CLOCK_SKEW.name + " " + formatNumber(skew) + "\n");
  }
  renderQueues(out);

  ngx.status = 200;
  ngx.header["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8";
  ngx.header["Cache-Control"] = "no-store";
  ngx.print(table.concat(out));
}
