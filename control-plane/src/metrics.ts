/**
 * The control plane's Prometheus metrics: the Node process's, and per published sale a
 * reconciliation read at scrape time — units left and sold in Redis against the sale's total,
 * orders accepted in Redis against orders persisted in Postgres.
 *
 * fs_sale_inventory_drift_units is total − left − sold: 0 while the invariant holds; above 0
 * means units stranded, below 0 units oversold; absent while the stock is not loaded. It is
 * read live at each scrape (the reconcile-sales job keeps its own result per minute).
 * A `reserve` sale's sold units include the reserved ones (an expiry moves them back to left),
 * so the drift holds for it too; paid units are in the sale's admin stats (`unitsPaid`).
 *
 * fs_control_plane_reconcile_* are the reconcile-sales job's last result per sale (from
 * Postgres, so every instance exports the same); fs_control_plane_oldest_pending_seconds and
 * fs_control_plane_live_workers are read from the order streams at each scrape.
 */
import { SALE_CONFIGS_KEY } from "@flash-sale/contract/keys";
import { counter, createMetricsRegistry, gauge, type Gauge, type Pool, type Redis, type Registry } from "@flash-sale/node-common";
import { readOrderStream, WORKER_IDLE_LIMIT_MS, type OrderStreamHealth } from "./projection/order-stream";
import { lastReconciliations, type Reconciliation } from "./projection/reconciliation";
import { readBuildState, type BuildReason } from "./projection/sale-builder";

interface SaleReading {
  sale: string;
  total: number;
  /** Null while the stock is not loaded in Redis (the preload loads it before the start). */
  left: number | null;
  sold: number;
  accepted: number;
  persisted: number;
  /** The sale's state is not built on the Redis process that answers: it sells nothing. */
  held: boolean;
  stream: OrderStreamHealth;
  reconciliation: Reconciliation | undefined;
}

/** One round of readings: Redis per sale (one slot each), then Postgres. */
async function readSales(redis: Redis, pool: Pool, idleLimitMs: number): Promise<SaleReading[]> {
  const configs = await redis.hgetall(SALE_CONFIGS_KEY);
  const sales = Object.entries(configs).map(([sale, json]) => {
    const record = JSON.parse(json) as { stock: number; stockBuckets?: number };
    return { sale, total: Number(record.stock), buckets: record.stockBuckets ?? 1 };
  });
  if (sales.length === 0) return [];
  const live = await Promise.all(
    sales.map(async ({ sale, buckets }) => {
      const [build, stream] = await Promise.all([readBuildState(redis, sale, buckets), readOrderStream(redis, sale, idleLimitMs, buckets)]);
      const { unitsLeft, unitsSold, ordersAccepted } = stream.counters;
      return { left: unitsLeft, sold: unitsSold, accepted: ordersAccepted, held: !build.every((b) => b.built), stream };
    }),
  );
  const { rows } = await pool.query<{ sale_id: string; orders: number }>(
    "SELECT sale_id, count(*)::int AS orders FROM orders WHERE sale_id = ANY($1::text[]) GROUP BY sale_id",
    [sales.map((s) => s.sale)],
  );
  const persisted = new Map(rows.map((r) => [r.sale_id, r.orders]));
  const reconciliations = await lastReconciliations(pool, sales.map((s) => s.sale));
  return sales.map((s, i) => ({ ...s, ...live[i]!, persisted: persisted.get(s.sale) ?? 0, reconciliation: reconciliations.get(s.sale) }));
}

export class ControlPlaneMetrics {
  readonly registry: Registry = createMetricsRegistry("control-plane");
  private readonly total = this.saleGauge("fs_sale_stock_units", "Units the sale offers in all (its config).");
  private readonly left = this.saleGauge("fs_sale_units_left", "Units left to take, in Redis.");
  private readonly sold = this.saleGauge("fs_sale_units_sold", "Units taken for good, in Redis.");
  private readonly drift = this.saleGauge(
    "fs_sale_inventory_drift_units",
    "total - left - sold: 0 when the inventory balances; below 0 oversold, above 0 stranded.",
  );
  private readonly accepted = this.saleGauge("fs_sale_orders_accepted", "Orders accepted by the purchase script: the sale's order counter in Redis.");
  private readonly persisted = this.saleGauge("fs_sale_orders_persisted", "Orders the order worker has written to Postgres.");
  private readonly unpersisted = this.saleGauge(
    "fs_sale_orders_unpersisted",
    "Accepted orders not yet in Postgres: the drain's backlog; stays above 0 if orders are lost.",
  );

  private readonly held = this.saleGauge("fs_control_plane_sale_held", "1 while the sale sells nothing until its Redis state is rebuilt from Postgres.");
  /** Rebuilds of a sale's Redis state from Postgres (its first build is not counted). */
  private readonly repairs = counter(
    this.registry,
    "fs_control_plane_sale_repairs_total",
    "Rebuilds of a sale's Redis state from Postgres, by reason (redis_process_changed, state_missing, behind_postgres).",
    ["sale", "reason"],
  );
  private readonly bucketMoves = counter(
    this.registry,
    "fs_control_plane_bucket_units_moved_total",
    "Units moved between a sale's stock buckets, to the buckets whose shoppers were turned away.",
    ["sale"],
  );

  private readonly unitDrift = this.saleGauge("fs_control_plane_reconcile_unit_drift", "Last reconciliation: total - (left + sold) in Redis; 0 when the units balance.");
  private readonly takenDrift = this.saleGauge(
    "fs_control_plane_reconcile_taken_drift",
    "Last reconciliation: sold in Redis - units the orders take (Postgres and Redis); absent when orders kept changing during the check.",
  );
  private readonly orderDrift = this.saleGauge(
    "fs_control_plane_reconcile_order_drift",
    "Last reconciliation: orders accepted - in Postgres - in flight; above 0 accepted orders lost, below 0 rows Redis never accepted.",
  );
  private readonly counterBehind = this.saleGauge("fs_control_plane_reconcile_counter_behind", "Last reconciliation: how far the order counter is below the highest order number in Postgres.");
  private readonly ownerMismatches = this.saleGauge(
    "fs_control_plane_reconcile_owner_mismatches",
    "Last reconciliation: orders whose user, quantity or epoch differs between Postgres and the Redis record.",
  );
  private readonly oldestPending = this.saleGauge("fs_control_plane_oldest_pending_seconds", "Age of the oldest order stream entry the workers have not acknowledged; 0 when none waits.");
  private readonly liveWorkers = gauge(this.registry, "fs_control_plane_live_workers", "Order workers (consumers of the group) that read a published sale's stream within the idle limit.");

  constructor(
    private readonly redis: Redis,
    private readonly pool: Pool,
    private readonly workerIdleLimitMs = WORKER_IDLE_LIMIT_MS,
  ) {}

  private saleGauge(name: string, help: string): Gauge<"sale"> {
    return gauge(this.registry, name, help, ["sale"]);
  }

  saleBuilt(sale: string, reason: BuildReason): void {
    if (reason !== "first_build") this.repairs.inc({ sale, reason });
  }

  unitsMovedBetweenBuckets(sale: string, units: number): void {
    this.bucketMoves.inc({ sale }, units);
  }

  /** The text of GET /metrics, after reading every published sale afresh. */
  async scrape(): Promise<string> {
    const sales = await readSales(this.redis, this.pool, this.workerIdleLimitMs);
    const perSale = [this.total, this.left, this.sold, this.drift, this.accepted, this.persisted, this.unpersisted, this.held];
    const reconciled = [this.unitDrift, this.takenDrift, this.orderDrift, this.counterBehind, this.ownerMismatches, this.oldestPending];
    for (const g of [...perSale, ...reconciled]) g.reset();
    for (const s of sales) {
      const sale = { sale: s.sale };
      this.total.set(sale, s.total);
      this.sold.set(sale, s.sold);
      if (s.left !== null) {
        this.left.set(sale, s.left);
        this.drift.set(sale, s.total - s.left - s.sold);
      }
      this.accepted.set(sale, s.accepted);
      this.persisted.set(sale, s.persisted);
      this.unpersisted.set(sale, s.accepted - s.persisted);
      this.held.set(sale, s.held ? 1 : 0);
      this.oldestPending.set(sale, (s.stream.oldestUnacknowledgedMs ?? 0) / 1000);
      const r = s.reconciliation;
      if (r !== undefined) {
        this.unitDrift.set(sale, r.unitDrift);
        if (r.takenDrift !== null) this.takenDrift.set(sale, r.takenDrift);
        this.orderDrift.set(sale, r.orderDrift);
        this.counterBehind.set(sale, r.counterBehind);
        this.ownerMismatches.set(sale, r.ownerMismatches);
      }
    }
    this.liveWorkers.set(new Set(sales.flatMap((s) => s.stream.liveConsumers)).size);
    return this.registry.metrics();
  }
}
