/**
 * A sale's report, from Postgres only (its orders, its kept traffic, its audit), so that it
 * outlives the sale's Redis state: what sold and for how much, how fast, how many tried and
 * where they were turned away, how many paid, and what happened on the way.
 */
import type { Pool } from "@flash-sale/node-common";
import { readAudit, type AuditAction } from "./audit-log";
import { statusesTakingUnits, type OrderStatus } from "../projection/rebuilt-state";
import type { Sale } from "./sale-repository";
import type { QueueFigures } from "../projection/traffic";
import { readPurchaseLatency, readTrafficSeconds, type TrafficSecond } from "./traffic-series";

/** Audit actions that belong on the timeline (a create or a delete says nothing of how it went). */
const TIMELINE_ACTIONS: AuditAction[] = ["publish", "update", "pause", "resume", "end", "repair"];

export interface TimelineEntry {
  at: string;
  action: AuditAction;
  actor: string;
  /** A repair's reason (why the sale's Redis state was rebuilt). */
  reason?: string;
}

export interface SaleReport {
  saleId: string;
  name: string;
  startsAt: string;
  endsAt: string;
  stock: number;
  deduction: Sale["deduction"];
  /** Units held by its orders as they stand (the deduction says which statuses hold). */
  unitsSold: number;
  /** Σ price × quantity of those orders, at their own accepted prices, minor units, in `currency`. */
  revenue: number;
  currency: string;
  /** The same by currency, where orders were accepted in more than one (the sale's currency changed). */
  revenueByCurrency: Record<string, number>;
  ordersByStatus: Record<OrderStatus, number>;
  orders: number;
  /** Paid orders over orders; null for a sale that takes no payment (deduction `order`) or has no orders. */
  paidConversion: number | null;
  /** When its orders as they stand took the last unit; null if never. */
  soldOutAt: string | null;
  timeToSellOutSeconds: number | null;
  /** Requests the gateways answered for the sale over its kept seconds, by outcome. */
  requestsByOutcome: Record<string, number>;
  requests: number;
  peakRequestsPerSecond: number;
  peakAt: string | null;
  /** Purchase answers' times at the gateways over the kept seconds, in ms; null when none was timed. */
  purchaseLatencyMs: LatencyPercentiles | null;
  /** The waiting room's totals at the last kept second; null without one. */
  waitingRoom: QueueFigures | null;
  /** Seconds of traffic kept (the series: GET …/report.csv, and `series` here). */
  series: TrafficSecond[];
  timeline: TimelineEntry[];
}

export interface LatencyPercentiles {
  p50: number;
  p95: number;
  p99: number;
}

/**
 * The q-quantile of a histogram (cumulative counts by upper bound in seconds, "+Inf" included),
 * in ms, as Prometheus' histogram_quantile() estimates it: linear within the bucket it falls in,
 * the largest finite bound when that is +Inf. Undefined for an empty histogram.
 */
export function histogramQuantileMs(cumulative: Record<string, number>, q: number): number | undefined {
  const buckets = Object.entries(cumulative)
    .map(([le, n]) => ({ le: le === "+Inf" ? Infinity : Number(le), n }))
    .sort((a, b) => a.le - b.le);
  const total = buckets[buckets.length - 1]?.n ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const { le, n } of buckets) {
    if (n >= rank && n > below) {
      if (le === Infinity) return lower * 1000;
      return (lower + ((le - lower) * (rank - below)) / (n - below)) * 1000;
    }
    lower = le;
    below = n;
  }
  return lower * 1000;
}

function latencyPercentiles(cumulative: Record<string, number>): LatencyPercentiles | null {
  const [p50, p95, p99] = [0.5, 0.95, 0.99].map((q) => histogramQuantileMs(cumulative, q));
  if (p50 === undefined || p95 === undefined || p99 === undefined) return null;
  // To the microsecond: the gateways' clock reads milliseconds.
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return { p50: round(p50), p95: round(p95), p99: round(p99) };
}

const NO_ORDERS: Record<OrderStatus, number> = { pending: 0, confirmed: 0, paid: 0, expired: 0, failed: 0 };

async function orderFigures(pool: Pool, sale: Sale) {
  const taking = statusesTakingUnits(sale.deduction);
  // A `payment` sale's unit is taken when paid; the others' when accepted.
  const takenAt = sale.deduction === "payment" ? "status_changed_at" : "accepted_at";
  const [byStatus, revenue, soldOut] = await Promise.all([
    pool.query<{ status: OrderStatus; n: number }>("SELECT status, count(*)::int AS n FROM orders WHERE sale_id = $1 GROUP BY status", [sale.id]),
    pool.query<{ currency: string; units: string; revenue: string }>(
      `SELECT currency, sum(quantity) AS units, sum(price * quantity) AS revenue FROM orders
        WHERE sale_id = $1 AND status = ANY($2) GROUP BY currency`,
      [sale.id, taking],
    ),
    pool.query<{ at: Date | null }>(
      `SELECT min(at) AS at FROM (
         SELECT ${takenAt} AS at, sum(quantity) OVER (ORDER BY ${takenAt}, order_no ROWS UNBOUNDED PRECEDING) AS units
           FROM orders WHERE sale_id = $1 AND status = ANY($2)
       ) taken WHERE units >= $3`,
      [sale.id, taking, sale.stock],
    ),
  ]);
  const ordersByStatus = { ...NO_ORDERS };
  for (const r of byStatus.rows) ordersByStatus[r.status] = r.n;
  const revenueByCurrency: Record<string, number> = {};
  let unitsSold = 0;
  for (const r of revenue.rows) {
    revenueByCurrency[r.currency] = Number(r.revenue);
    unitsSold += Number(r.units);
  }
  return { ordersByStatus, revenueByCurrency, unitsSold, soldOutAt: sale.stock > 0 ? (soldOut.rows[0]?.at ?? null) : null };
}

export async function saleReport(pool: Pool, sale: Sale): Promise<SaleReport> {
  const [orders, series, latency, audit] = await Promise.all([
    orderFigures(pool, sale),
    readTrafficSeconds(pool, sale.id),
    readPurchaseLatency(pool, sale.id),
    readAudit(pool, sale.id),
  ]);
  const requestsByOutcome: Record<string, number> = {};
  let peak: TrafficSecond | undefined;
  let waitingRoom: QueueFigures | null = null;
  for (const second of series) {
    waitingRoom = second.queue ?? waitingRoom;
    for (const [outcome, n] of Object.entries(second.requests)) requestsByOutcome[outcome] = (requestsByOutcome[outcome] ?? 0) + n;
    if (peak === undefined || second.total > peak.total) peak = second;
  }
  const count = Object.values(orders.ordersByStatus).reduce((a, b) => a + b, 0);
  const soldOutAt = orders.soldOutAt?.toISOString() ?? null;
  return {
    saleId: sale.id,
    name: sale.name,
    startsAt: sale.startsAt,
    endsAt: sale.endsAt,
    stock: sale.stock,
    deduction: sale.deduction,
    unitsSold: orders.unitsSold,
    revenue: orders.revenueByCurrency[sale.currency] ?? 0,
    currency: sale.currency,
    revenueByCurrency: orders.revenueByCurrency,
    ordersByStatus: orders.ordersByStatus,
    orders: count,
    paidConversion: sale.deduction === "order" || count === 0 ? null : orders.ordersByStatus.paid / count,
    soldOutAt,
    timeToSellOutSeconds: soldOutAt === null ? null : Math.max(0, (Date.parse(soldOutAt) - Date.parse(sale.startsAt)) / 1000),
    requestsByOutcome,
    requests: Object.values(requestsByOutcome).reduce((a, b) => a + b, 0),
    peakRequestsPerSecond: peak?.total ?? 0,
    peakAt: peak?.at ?? null,
    purchaseLatencyMs: latencyPercentiles(latency),
    waitingRoom,
    series,
    timeline: audit
      .filter((e) => TIMELINE_ACTIONS.includes(e.action))
      .map((e) => {
        const reason = e.action === "repair" ? (e.after as { reason?: unknown } | null)?.reason : undefined;
        return { at: e.at, action: e.action, actor: e.actor, ...(typeof reason === "string" ? { reason } : {}) };
      }),
  };
}

/** The series as RFC 4180 lines: the second, all requests, one column per outcome seen, the gateways read, the waiting room's totals. */
export function seriesCsv(series: TrafficSecond[], field: (value: string) => string): string {
  const outcomes = [...new Set(series.flatMap((s) => Object.keys(s.requests)))].sort();
  const header = ["second", "requests", ...outcomes, "gateways", "queue_joined", "queue_admitted", "passes_used", "passes_expired"];
  const lines = series.map((s) =>
    [
      s.at,
      String(s.total),
      ...outcomes.map((o) => String(s.requests[o] ?? 0)),
      String(s.gateways),
      ...(s.queue === undefined ? ["", "", "", ""] : [s.queue.joined, s.queue.admitted, s.queue.passesUsed, s.queue.passesExpired].map(String)),
    ]
      .map(field)
      .join(","),
  );
  return [header.map(field).join(","), ...lines].map((l) => `${l}\r\n`).join("");
}
