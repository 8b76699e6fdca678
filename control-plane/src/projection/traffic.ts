/**
 * A sale's traffic for the admin UI's live page: the request counters by outcome summed over
 * every live gateway (their Prometheus text, at the URLs they register in Redis; the page turns
 * totals into rates) and the order queue's lag.
 */
import type { Redis } from "@flash-sale/node-common";
import { GATEWAY_LIVENESS_MS, GATEWAY_METRICS_URLS_KEY, GATEWAYS_KEY } from "@flash-sale/contract/keys";
import { QUEUE_GAUGES, REQUESTS, SALE_PURCHASE_DURATION } from "@flash-sale/contract/metrics";
import type { SaleRepository } from "../store/sale-repository";
import { readSaleCounters } from "./sale-counters";

export interface SaleTraffic {
  /** Requests the gateways answered for the sale since they started, by outcome; null when none could be read. */
  requestsByOutcome: Record<string, number> | null;
  /** Gateways whose counters are in the sum. */
  gateways: number;
  /** Orders accepted in Redis and not yet written to Postgres by the order worker. */
  ordersQueued: number;
}

const GATEWAY_TIMEOUT_MS = 800;
const SAMPLE = /^(\w+)\{([^}]*)\} +([0-9.eE+-]+)$/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;
const SALE_PURCHASE_BUCKET = `${SALE_PURCHASE_DURATION.name}_bucket`;
/** The waiting room's gauges in QueueFigures' names: the fleet's figures, the same on every gateway. */
const QUEUE_FIGURES: Record<string, keyof QueueFigures> = {
  [QUEUE_GAUGES[0]!.name]: "joined",
  [QUEUE_GAUGES[1]!.name]: "admitted",
  [QUEUE_GAUGES[2]!.name]: "passesUsed",
  [QUEUE_GAUGES[3]!.name]: "passesExpired",
};

/** A waiting room's totals as the gateways export them (its queue keeps every shopper who joined). */
export interface QueueFigures {
  joined: number;
  admitted: number;
  passesUsed: number;
  passesExpired: number;
}

/** One sale's figures in one gateway's metrics (or summed over the fleet's). */
export interface SaleSample {
  requests: Record<string, number>;
  queue?: QueueFigures;
  /** Its purchases timed: the histogram's cumulative counts by upper bound (`le`, "+Inf" included). */
  purchaseLatency?: Record<string, number>;
}

/** Every sale's request counters (by outcome, every route summed) and waiting-room gauges in a gateway's Prometheus text. */
export function saleSamples(metricsText: string): Map<string, SaleSample> {
  const samples = new Map<string, SaleSample>();
  const of = (sale: string): SaleSample => {
    let s = samples.get(sale);
    if (s === undefined) samples.set(sale, (s = { requests: {} }));
    return s;
  };
  for (const line of metricsText.split("\n")) {
    const sample = SAMPLE.exec(line.trim());
    if (sample === null) continue;
    const [, name, labelText, value] = sample as unknown as [string, string, string, string];
    const figure = QUEUE_FIGURES[name];
    if (name !== REQUESTS.name && name !== SALE_PURCHASE_BUCKET && figure === undefined) continue;
    const labels = Object.fromEntries([...labelText.matchAll(LABEL)].map((m) => [m[1], m[2]]));
    const sale = labels["sale"];
    if (sale === undefined || sale === "") continue;
    if (name === SALE_PURCHASE_BUCKET) {
      const le = labels["le"];
      if (le !== undefined) (of(sale).purchaseLatency ??= {})[le] = Number(value);
    } else if (figure !== undefined) {
      const s = of(sale);
      s.queue ??= { joined: 0, admitted: 0, passesUsed: 0, passesExpired: 0 };
      s.queue[figure] = Number(value);
    } else if (labels["outcome"] !== undefined) {
      const requests = of(sale).requests;
      requests[labels["outcome"]] = (requests[labels["outcome"]] ?? 0) + Number(value);
    }
  }
  return samples;
}

/** Sums the request counter's samples of `saleId` by outcome (every route). */
export function requestsByOutcome(metricsText: string, saleId: string): Record<string, number> {
  return saleSamples(metricsText).get(saleId)?.requests ?? {};
}

async function gatewaySamples(gatewayMetricsUrl: string): Promise<Map<string, SaleSample> | null> {
  try {
    const res = await fetch(gatewayMetricsUrl, { signal: AbortSignal.timeout(GATEWAY_TIMEOUT_MS) });
    return res.ok ? saleSamples(await res.text()) : null;
  } catch {
    return null;
  }
}

/** The metrics URLs the live gateways registered; the configured one when none did (an older gateway). */
async function gatewayMetricsUrls(redis: Redis, configured: string): Promise<string[]> {
  const live = await redis.zrangebyscore(GATEWAYS_KEY, Date.now() - GATEWAY_LIVENESS_MS, "+inf");
  const urls = live.length === 0 ? [] : (await redis.hmget(GATEWAY_METRICS_URLS_KEY, ...live)).filter((u): u is string => u !== null);
  return urls.length > 0 ? [...new Set(urls)] : [configured];
}

function sum(parts: Record<string, number>[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const part of parts) for (const [outcome, n] of Object.entries(part)) totals[outcome] = (totals[outcome] ?? 0) + n;
  return totals;
}

export interface FleetSamples {
  /** Gateways whose metrics were read. */
  gateways: number;
  /** Each sale's request counters summed over them, and its waiting room's figures (the largest seen). */
  sales: Map<string, SaleSample>;
}

/** Reads every live gateway's metrics once; null when none answered. */
export async function readFleetSamples(redis: Redis, gatewayMetricsUrl: string): Promise<FleetSamples | null> {
  const urls = await gatewayMetricsUrls(redis, gatewayMetricsUrl);
  const answered = (await Promise.all(urls.map(gatewaySamples))).filter((m): m is Map<string, SaleSample> => m !== null);
  if (answered.length === 0) return null;
  const sales = new Map<string, SaleSample>();
  for (const gateway of answered) {
    for (const [sale, sample] of gateway) {
      const fleet = sales.get(sale);
      if (fleet === undefined) {
        sales.set(sale, {
          requests: { ...sample.requests },
          ...(sample.queue === undefined ? {} : { queue: { ...sample.queue } }),
          ...(sample.purchaseLatency === undefined ? {} : { purchaseLatency: { ...sample.purchaseLatency } }),
        });
        continue;
      }
      fleet.requests = sum([fleet.requests, sample.requests]);
      if (sample.purchaseLatency !== undefined) fleet.purchaseLatency = sum([fleet.purchaseLatency ?? {}, sample.purchaseLatency]);
      // A gateway that synced later shows more; the figures only grow.
      if (sample.queue !== undefined && (fleet.queue === undefined || sample.queue.admitted >= fleet.queue.admitted)) fleet.queue = { ...sample.queue };
    }
  }
  return { gateways: answered.length, sales };
}

export async function readSaleTraffic(redis: Redis, repository: SaleRepository, gatewayMetricsUrl: string, saleId: string, buckets = 1): Promise<SaleTraffic> {
  const [fleet, counters, persisted] = await Promise.all([
    readFleetSamples(redis, gatewayMetricsUrl),
    readSaleCounters(redis, saleId, buckets),
    repository.persistedOrders(saleId),
  ]);
  return {
    requestsByOutcome: fleet === null ? null : (fleet.sales.get(saleId)?.requests ?? {}),
    gateways: fleet?.gateways ?? 0,
    ordersQueued: Math.max(0, counters.ordersAccepted - persisted.orders),
  };
}
