/**
 * A sale's traffic for the admin UI's live page: the request counters by outcome summed over
 * every live gateway (their Prometheus text, at the URLs they register in Redis; the page turns
 * totals into rates) and the order queue's lag.
 */
import type { Redis } from "@flash-sale/node-common";
import { GATEWAY_LIVENESS_MS, GATEWAY_METRICS_URLS_KEY, GATEWAYS_KEY } from "@flash-sale/gateway-lua/core/keys";
import { REQUESTS } from "@flash-sale/gateway-lua/core/metrics";
import type { SaleRepository } from "./repository";
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
const SAMPLE = new RegExp(`^${REQUESTS.name}\\{([^}]*)\\} +([0-9.eE+-]+)$`);
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** Sums the request counter's samples of `saleId` by outcome (every route). */
export function requestsByOutcome(metricsText: string, saleId: string): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const line of metricsText.split("\n")) {
    const sample = SAMPLE.exec(line.trim());
    if (sample === null) continue;
    const labels = Object.fromEntries([...sample[1]!.matchAll(LABEL)].map((m) => [m[1], m[2]]));
    if (labels["sale"] !== saleId || labels["outcome"] === undefined) continue;
    totals[labels["outcome"]] = (totals[labels["outcome"]] ?? 0) + Number(sample[2]);
  }
  return totals;
}

async function gatewayRequests(gatewayMetricsUrl: string, saleId: string): Promise<Record<string, number> | null> {
  try {
    const res = await fetch(gatewayMetricsUrl, { signal: AbortSignal.timeout(GATEWAY_TIMEOUT_MS) });
    return res.ok ? requestsByOutcome(await res.text(), saleId) : null;
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

export async function readSaleTraffic(redis: Redis, repository: SaleRepository, gatewayMetricsUrl: string, saleId: string, buckets = 1): Promise<SaleTraffic> {
  const urls = await gatewayMetricsUrls(redis, gatewayMetricsUrl);
  const [perGateway, counters, persisted] = await Promise.all([
    Promise.all(urls.map((url) => gatewayRequests(url, saleId))),
    readSaleCounters(redis, saleId, buckets),
    repository.persistedOrders(saleId),
  ]);
  const answered = perGateway.filter((r): r is Record<string, number> => r !== null);
  return {
    requestsByOutcome: answered.length === 0 ? null : sum(answered),
    gateways: answered.length,
    ordersQueued: Math.max(0, counters.ordersAccepted - persisted.orders),
  };
}
