/**
 * A sale's traffic kept per second in Postgres (migrations/015_sale_traffic_seconds.sql, 018): written
 * by the keep-traffic job from the gateways' metrics, read back as per-second figures for the
 * live page's history, the report and its CSV.
 */
import type { Pool } from "@flash-sale/node-common";
import type { FleetSamples, QueueFigures } from "../projection/traffic";

/** Seconds kept before a sale starts (besides its waiting room's opening) and after it ends. */
const KEPT_BEFORE_START_S = 60;
const KEPT_AFTER_END_S = 10;

export interface TrafficSecond {
  /** The second (ISO 8601), its figures counted since the kept second before it. */
  at: string;
  /** Requests answered in that second, by outcome. */
  requests: Record<string, number>;
  /** All of them. */
  total: number;
  /** Gateways read. */
  gateways: number;
  /** The waiting room's totals at that second; absent without one. */
  queue?: QueueFigures;
}

/** Published sales whose kept window holds `nowMs`: from before the start (or the waiting room's opening) to just after the end. */
export async function salesKeptAt(pool: Pool, nowMs: number): Promise<string[]> {
  const result = await pool.query<{ id: string }>(
    `SELECT id FROM sales
      WHERE published_at IS NOT NULL
        AND starts_at - make_interval(secs => $2 + COALESCE((waiting_room->>'opensBeforeSeconds')::int, 0)) <= $1
        AND ends_at + make_interval(secs => $3) >= $1
      ORDER BY id`,
    [new Date(nowMs), KEPT_BEFORE_START_S, KEPT_AFTER_END_S],
  );
  return result.rows.map((r) => r.id);
}

/** Writes the second's row of each sale; a second already written (another instance, a retried tick) stays as it was. */
export async function recordSecond(pool: Pool, secondMs: number, saleIds: string[], fleet: FleetSamples): Promise<void> {
  if (saleIds.length === 0) return;
  const rows = saleIds.map((id) => {
    const sample = fleet.sales.get(id);
    return { sale_id: id, requests: sample?.requests ?? {}, queue: sample?.queue ?? null, purchase_latency: sample?.purchaseLatency ?? null };
  });
  await pool.query(
    `INSERT INTO sale_traffic_seconds (sale_id, second, requests, gateways, queue, purchase_latency)
     SELECT r.sale_id, $1, r.requests, $2, r.queue, r.purchase_latency
       FROM jsonb_to_recordset($3::jsonb) AS r(sale_id text, requests jsonb, queue jsonb, purchase_latency jsonb)
     ON CONFLICT (sale_id, second) DO NOTHING`,
    [new Date(secondMs), fleet.gateways, JSON.stringify(rows)],
  );
}

interface Row {
  second: Date;
  requests: Record<string, number>;
  gateways: number;
  queue: QueueFigures | null;
}

/**
 * What each counter of `current` added since `previous` (kept totals by name), the ones that
 * added nothing left out. A counter that went down (a gateway restarted, or one not read) counts
 * what it shows, as Prometheus' increase() does.
 */
function increase(previous: Record<string, number>, current: Record<string, number>): Record<string, number> {
  const added: Record<string, number> = {};
  for (const [name, n] of Object.entries(current)) {
    const before = previous[name] ?? 0;
    const delta = n >= before ? n - before : n;
    if (delta > 0) added[name] = delta;
  }
  return added;
}

/**
 * The sale's kept seconds, oldest first, each with the requests answered since the kept second
 * before it (the first: since the gateways started).
 */
export async function readTrafficSeconds(pool: Pool, saleId: string): Promise<TrafficSecond[]> {
  const result = await pool.query<Row>("SELECT second, requests, gateways, queue FROM sale_traffic_seconds WHERE sale_id = $1 ORDER BY second", [saleId]);
  let previous: Record<string, number> = {};
  return result.rows.map((row) => {
    const requests = increase(previous, row.requests);
    previous = row.requests;
    const total = Object.values(requests).reduce((a, b) => a + b, 0);
    return { at: row.second.toISOString(), requests, total, gateways: row.gateways, ...(row.queue === null ? {} : { queue: row.queue }) };
  });
}

/**
 * The sale's purchases timed over its kept seconds, as one histogram: cumulative counts by
 * upper bound (`le`), each bucket's increase summed second by second like the requests'.
 */
export async function readPurchaseLatency(pool: Pool, saleId: string): Promise<Record<string, number>> {
  const result = await pool.query<{ purchase_latency: Record<string, number> }>(
    "SELECT purchase_latency FROM sale_traffic_seconds WHERE sale_id = $1 AND purchase_latency IS NOT NULL ORDER BY second",
    [saleId],
  );
  const histogram: Record<string, number> = {};
  let previous: Record<string, number> = {};
  for (const row of result.rows) {
    for (const [le, n] of Object.entries(increase(previous, row.purchase_latency))) histogram[le] = (histogram[le] ?? 0) + n;
    previous = row.purchase_latency;
  }
  return histogram;
}
