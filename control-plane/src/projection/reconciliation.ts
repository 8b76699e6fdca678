/**
 * Reconciliation of a sale, Redis against Postgres, run under the sale's row lock (admin
 * changes, rebuilds and the worker's inserts for the sale wait). What it checks:
 * - units: left + sold = total (Redis against the total in Postgres);
 * - units taken: Redis' `sold` against the units the sale's orders take — those in Postgres
 *   together with those Redis accepted and has not drained yet, each with the later of its two
 *   statuses, counted by the deduction mode (rebuilt-state.ts, as a rebuild would count them);
 * - orders: accepted (the counter) = in Postgres + in flight (the stream's pending + lag);
 * - the counter is not below the highest order number in Postgres (ids would repeat);
 * - owners: every order in Postgres whose record Redis holds has the same user, quantity and
 *   epoch there (a record overwritten is an order Redis would show or pay for someone else);
 * - the drain: the age of the oldest entry waiting, and whether any worker reads the streams
 *   (the order stream, and the status changes the workers apply to the orders rows).
 * A sale in stock buckets is checked over all of its buckets: units moved between buckets and not
 * yet arrived count as left (bucket-rebalancer.ts), and each bucket's counter against the
 * highest order number of its class.
 * The last result of each sale is kept in sale_reconciliation: the sale's stats and the
 * control plane's /metrics show it. A sale held for a rebuild (heldForRebuild) is not
 * reconciled: its last result stands until the rebuild.
 */
import type { Pool, Redis } from "@flash-sale/node-common";
import { bucketOfOrderNo } from "@flash-sale/contract/buckets";
import { bucketKeysOf } from "@flash-sale/contract/keys";
import { unitsInFlight } from "./bucket-rebalancer";
import { parseOrderRecord, type OrderRecord } from "@flash-sale/contract/order_record";
import { readOrderStream, WORKER_IDLE_LIMIT_MS } from "./order-stream";
import { laterStatus, rebuiltState, type KnownOrder, type OrderStatus } from "./rebuilt-state";
import { addCounters, saleCounterKeys, saleCountersOf } from "./sale-counters";
import type { LockedSale, Sale, SaleRepository } from "../store/sale-repository";
import { buildReason, readBuildState, type BuildReason } from "./sale-builder";

/** Hash fields read per HSCAN call: keeps each call short next to the purchases. */
const FIELDS_PER_CALL = 1000;
/** Scans of the orders taken before giving up on a quiet moment for the units-taken check. */
const SCAN_ATTEMPTS = 3;
/** Owner mismatches kept as examples (all are counted). */
const EXAMPLES = 10;

export interface OwnerMismatch {
  orderId: string;
  field: "user" | "quantity" | "epoch";
  postgres: string | number;
  redis: string | number;
}

export interface Reconciliation {
  checkedAt: string;
  /** The sale's total in Postgres. */
  total: number;
  /** Null when Redis holds no stock for the sale. */
  unitsLeft: number | null;
  unitsSold: number;
  /**
   * total − (left + sold): units gone missing (> 0) or made up (< 0); 0 when all is well, and
   * for a sale not started yet whose stock is not loaded.
   */
  unitDrift: number;
  /** Units the sale's orders take (see the header); null when orders kept changing during the check. */
  unitsTakenByOrders: number | null;
  /** sold − unitsTakenByOrders: > 0 units counted taken that no order holds, < 0 orders whose units are not counted. */
  takenDrift: number | null;
  /** Orders the gateways accepted (the sale's order counter). */
  ordersAccepted: number;
  ordersPersisted: number;
  /** Stream entries not yet acknowledged by the order workers (pending + lag). */
  ordersInFlight: number;
  /**
   * accepted − persisted − in flight: > 0 orders accepted that are neither in Postgres nor on
   * their way, < 0 rows Redis never accepted. While entries are in flight, only what the
   * readings prove is counted (a row may be committed before its entry is acknowledged).
   */
  orderDrift: number;
  /** The highest order number in Postgres (over every epoch). */
  highestOrderNo: number;
  /** How far the counter is below highestOrderNo (order numbers would be handed out again); 0 when not. */
  counterBehind: number;
  ownerMismatches: number;
  ownerMismatchExamples: OwnerMismatch[];
  /** Age of the oldest stream entry not yet acknowledged; null when none waits. */
  oldestPendingSeconds: number | null;
  /** Consumers of the workers' group that read within the idle limit. */
  liveWorkers: number;
  /** Entries (orders or status changes) wait and no worker has read the streams within the idle limit. */
  workerDown: boolean;
}

export interface ReconcileOptions {
  workerIdleLimitMs?: number;
}

interface RecordInRedis extends OrderRecord {
  status: string | undefined;
}

/** The sale's order records (HSCAN; every bucket's), between two readings of what changes them; stable when equal. */
async function readOrderRecords(redis: Redis, saleId: string, buckets: number): Promise<{ records: Map<number, RecordInRedis>; sold: number; stable: boolean }> {
  const all = bucketKeysOf(saleId, buckets);
  // A purchase moves the counter; a payment or an expiry appends a status change; both move `sold` with them.
  const stamp = async () => {
    const parts = await Promise.all(all.map(async (k, b) => {
      const replies = await redis.multi().mget(saleCounterKeys(k)).xinfo("STREAM", k.statusChanges).exec();
      const [[err, values], [, info]] = replies as [[Error | null, (string | null)[]], [Error | null, unknown]];
      if (err !== null) throw err;
      const lastChange = Array.isArray(info) ? String(info[info.indexOf("last-generated-id") + 1]) : "none";
      return { counters: saleCountersOf(values, b, buckets), lastChange };
    }));
    const counters = parts.map((p) => p.counters).reduce(addCounters);
    return { sold: counters.unitsSold, text: `${counters.unitsSold} ${counters.ordersAccepted} ${parts.map((p) => p.lastChange).join(" ")}` };
  };
  let records = new Map<number, RecordInRedis>();
  let before = await stamp();
  for (let attempt = 1; ; attempt++) {
    records = new Map();
    for (const k of all) {
      const texts = new Map<string, string>();
      let cursor = "0";
      do {
        const [next, flat] = await redis.hscan(k.orders, cursor, "COUNT", FIELDS_PER_CALL);
        for (let i = 0; i + 1 < flat.length; i += 2) texts.set(flat[i]!, flat[i + 1]!);
        cursor = next;
      } while (cursor !== "0");
      for (const [field, text] of texts) {
        const record = field.endsWith(":s") ? undefined : parseOrderRecord(text);
        if (record !== undefined) records.set(Number(field), { ...record, status: texts.get(`${field}:s`) });
      }
    }
    const after = await stamp();
    if (after.text === before.text) return { records, sold: after.sold, stable: true };
    if (attempt === SCAN_ATTEMPTS) return { records, sold: after.sold, stable: false };
    before = after;
  }
}

/** How far the counters are below the highest order number in Postgres (each bucket's of its class). */
async function counterBehindOf(redis: Redis, saleId: string, buckets: number, inPostgres: KnownOrder[], accepted: number): Promise<number> {
  const highest = Array.from({ length: buckets }, () => 0);
  for (const o of inPostgres) {
    const b = bucketOfOrderNo(o.orderNo, buckets);
    highest[b] = Math.max(highest[b]!, o.orderNo);
  }
  if (buckets === 1) return Math.max(0, highest[0]! - accepted);
  const seqs = await Promise.all(bucketKeysOf(saleId, buckets).map((k) => redis.get(k.orderSeq)));
  return Math.max(0, ...highest.map((h, b) => h - Number(seqs[b] ?? 0)));
}

function ownerMismatches(saleId: string, inPostgres: KnownOrder[], inRedis: Map<number, RecordInRedis>): OwnerMismatch[] {
  const mismatches: OwnerMismatch[] = [];
  for (const o of inPostgres) {
    const r = inRedis.get(o.orderNo);
    if (r === undefined) continue; // Redis forgot it: a rebuild writes it back
    const orderId = `${saleId}.${o.epoch}.${o.orderNo}`;
    if (r.epoch !== o.epoch) mismatches.push({ orderId, field: "epoch", postgres: o.epoch, redis: r.epoch });
    else if (r.userId !== o.userId) mismatches.push({ orderId, field: "user", postgres: o.userId, redis: r.userId });
    else if (r.quantity !== o.quantity) mismatches.push({ orderId, field: "quantity", postgres: o.quantity, redis: r.quantity });
  }
  return mismatches;
}

/** The units the orders take: Postgres ∪ Redis, by (epoch, number), each with its later status. */
function unitsTakenByOrders(locked: LockedSale, inPostgres: KnownOrder[], inRedis: Map<number, RecordInRedis>): number {
  const orders = new Map<string, KnownOrder>();
  for (const [orderNo, r] of inRedis) {
    const status = (r.status ?? "pending") as OrderStatus;
    orders.set(`${r.epoch}.${orderNo}`, { epoch: r.epoch, orderNo, userId: r.userId, quantity: r.quantity, acceptedAtMs: r.acceptedAtMs, status });
  }
  for (const o of inPostgres) {
    const known = orders.get(`${o.epoch}.${o.orderNo}`);
    if (known === undefined) orders.set(`${o.epoch}.${o.orderNo}`, o);
    else known.status = laterStatus(known.status, o.status);
  }
  return rebuiltState(locked.sale.stock, locked.sale.deduction, orders.values()).unitsTaken;
}

/**
 * Why the sale is held until keep-sales-built rebuilds it (never built, or its state is not
 * built on this Redis process: lost, or from before a restart or a failover); undefined when it
 * is built. Its Redis state then measures no drift: the rebuild sets it from Postgres.
 */
export async function heldForRebuild(redis: Redis, sale: Pick<Sale, "id" | "epoch" | "stockBuckets">): Promise<BuildReason | undefined> {
  if (sale.epoch === 0) return "first_build";
  const states = await readBuildState(redis, sale.id, sale.stockBuckets);
  return states.every((s) => s.built) ? undefined : buildReason(states, sale.epoch, []);
}

export async function reconcileSale(redis: Redis, repository: SaleRepository, locked: LockedSale, nowMs: number, opts: ReconcileOptions = {}): Promise<Reconciliation> {
  const { sale } = locked;
  const idleLimitMs = opts.workerIdleLimitMs ?? WORKER_IDLE_LIMIT_MS;
  const buckets = sale.stockBuckets;
  const before = await readOrderStream(redis, sale.id, idleLimitMs, buckets);
  const inFlight = await unitsInFlight(redis, sale.id, buckets);
  const inPostgres = await repository.ordersOfSale(locked.db, sale.id);
  const after = await readOrderStream(redis, sale.id, idleLimitMs, buckets);
  const scan = await readOrderRecords(redis, sale.id, buckets);

  // The worker commits before it acknowledges: what was acknowledged before Postgres was read
  // is there; rows beyond it may belong to entries in flight, or accepted since.
  const persisted = inPostgres.length;
  const first = before.counters;
  const accepted = after.counters.ordersAccepted;
  const gap = first.ordersAccepted - before.unacknowledged - persisted;
  const maybeCommitted = before.unacknowledged + (accepted - first.ordersAccepted);
  const highestOrderNo = inPostgres.reduce((n, o) => Math.max(n, o.orderNo), 0);
  const awaitingPreload = first.unitsLeft === null && first.unitsSold === 0 && nowMs < Date.parse(sale.startsAt);
  const taken = scan.stable ? unitsTakenByOrders(locked, inPostgres, scan.records) : null;
  const mismatches = ownerMismatches(sale.id, inPostgres, scan.records);
  const counterBehind = await counterBehindOf(redis, sale.id, buckets, inPostgres, accepted);
  return {
    checkedAt: new Date(nowMs).toISOString(),
    total: sale.stock,
    unitsLeft: first.unitsLeft,
    unitsSold: first.unitsSold,
    unitDrift: awaitingPreload ? 0 : sale.stock - ((first.unitsLeft ?? 0) + first.unitsSold + inFlight),
    unitsTakenByOrders: taken,
    takenDrift: taken === null ? null : scan.sold - taken,
    ordersAccepted: accepted,
    ordersPersisted: persisted,
    ordersInFlight: after.unacknowledged,
    orderDrift: gap > 0 ? gap : Math.min(0, gap + maybeCommitted),
    highestOrderNo,
    counterBehind,
    ownerMismatches: mismatches.length,
    ownerMismatchExamples: mismatches.slice(0, EXAMPLES),
    oldestPendingSeconds: after.oldestUnacknowledgedMs === null ? null : after.oldestUnacknowledgedMs / 1000,
    liveWorkers: after.liveConsumers.length,
    workerDown: after.unacknowledged + after.statusesUnacknowledged > 0 && after.liveConsumers.length === 0,
  };
}

/** What is wrong, by name (empty when nothing is). */
export function problemsOf(r: Reconciliation): string[] {
  const problems: [string, boolean][] = [
    ["unit_drift", r.unitDrift !== 0],
    ["taken_drift", r.takenDrift !== null && r.takenDrift !== 0],
    ["order_drift", r.orderDrift !== 0],
    ["counter_behind", r.counterBehind > 0],
    ["owner_mismatches", r.ownerMismatches > 0],
    ["worker_down", r.workerDown],
  ];
  return problems.filter(([, found]) => found).map(([name]) => name);
}

interface ReconciliationRow {
  checked_at: Date;
  total: number;
  units_left: number | null;
  units_sold: number;
  unit_drift: number;
  units_taken_by_orders: number | null;
  taken_drift: number | null;
  orders_accepted: number;
  orders_persisted: number;
  orders_in_flight: number;
  order_drift: number;
  highest_order_no: string; // bigint
  counter_behind: number;
  owner_mismatches: number;
  owner_mismatch_examples: OwnerMismatch[];
  oldest_pending_seconds: number | null;
  live_workers: number;
  worker_down: boolean;
}

/** The columns, in the order of the values storeReconciliation writes. */
const COLUMNS = [
  "checked_at", "total", "units_left", "units_sold", "unit_drift", "units_taken_by_orders", "taken_drift",
  "orders_accepted", "orders_persisted", "orders_in_flight", "order_drift", "highest_order_no", "counter_behind",
  "owner_mismatches", "owner_mismatch_examples", "oldest_pending_seconds", "live_workers", "worker_down",
];

export async function storeReconciliation(locked: LockedSale, r: Reconciliation): Promise<void> {
  const values = [
    r.checkedAt, r.total, r.unitsLeft, r.unitsSold, r.unitDrift, r.unitsTakenByOrders, r.takenDrift,
    r.ordersAccepted, r.ordersPersisted, r.ordersInFlight, r.orderDrift, r.highestOrderNo, r.counterBehind,
    r.ownerMismatches, JSON.stringify(r.ownerMismatchExamples), r.oldestPendingSeconds, r.liveWorkers, r.workerDown,
  ];
  await locked.db.query(
    `INSERT INTO sale_reconciliation (sale_id, ${COLUMNS.join(", ")})
     VALUES ($1, ${COLUMNS.map((_, i) => `$${i + 2}`).join(", ")})
     ON CONFLICT (sale_id) DO UPDATE SET ${COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(", ")}`,
    [locked.sale.id, ...values],
  );
}

function fromRow(row: ReconciliationRow): Reconciliation {
  return {
    checkedAt: row.checked_at.toISOString(),
    total: row.total,
    unitsLeft: row.units_left,
    unitsSold: row.units_sold,
    unitDrift: row.unit_drift,
    unitsTakenByOrders: row.units_taken_by_orders,
    takenDrift: row.taken_drift,
    ordersAccepted: row.orders_accepted,
    ordersPersisted: row.orders_persisted,
    ordersInFlight: row.orders_in_flight,
    orderDrift: row.order_drift,
    highestOrderNo: Number(row.highest_order_no),
    counterBehind: row.counter_behind,
    ownerMismatches: row.owner_mismatches,
    ownerMismatchExamples: row.owner_mismatch_examples,
    oldestPendingSeconds: row.oldest_pending_seconds,
    liveWorkers: row.live_workers,
    workerDown: row.worker_down,
  };
}

/** The sale's last reconciliation; null before the first. */
export async function lastReconciliation(pool: Pool, saleId: string): Promise<Reconciliation | null> {
  const result = await pool.query<ReconciliationRow>("SELECT * FROM sale_reconciliation WHERE sale_id = $1", [saleId]);
  const row = result.rows[0];
  return row === undefined ? null : fromRow(row);
}

/** The last reconciliation of each of the sales that has one. */
export async function lastReconciliations(pool: Pool, saleIds: string[]): Promise<Map<string, Reconciliation>> {
  const result = await pool.query<ReconciliationRow & { sale_id: string }>("SELECT * FROM sale_reconciliation WHERE sale_id = ANY($1)", [saleIds]);
  return new Map(result.rows.map((row) => [row.sale_id, fromRow(row)]));
}
