/**
 * A sale's traffic for the admin UI's live page: the gateway's request counters by outcome
 * (its Prometheus text; the page turns totals into rates) and the order queue's lag.
 */
import type { Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/gateway-lua/core/keys";
import { REQUESTS } from "@flash-sale/gateway-lua/core/metrics";
import type { SaleRepository } from "./repository";

export interface SaleTraffic {
  /** Requests the gateway answered for the sale since it started, by outcome; null when unreachable. */
  requestsByOutcome: Record<string, number> | null;
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

export async function readSaleTraffic(redis: Redis, repository: SaleRepository, gatewayMetricsUrl: string, saleId: string): Promise<SaleTraffic> {
  const [requests, orderFields, persisted] = await Promise.all([
    gatewayRequests(gatewayMetricsUrl, saleId),
    redis.hlen(saleKeys(saleId).orders),
    repository.persistedOrders(saleId),
  ]);
  // Each order is two fields of the orders hash: its record and its status.
  return { requestsByOutcome: requests, ordersQueued: Math.max(0, orderFields / 2 - persisted.orders) };
}
