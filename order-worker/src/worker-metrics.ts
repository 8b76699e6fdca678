/**
 * The order worker's Prometheus metrics. Counters move as batches drain; the stream backlog
 * is read from Redis (XINFO GROUPS) at scrape time, for every published sale.
 */
import { bucketKeysOf, ORDER_CONSUMER_GROUP, SALE_CONFIGS_KEY } from "@flash-sale/contract/keys";
import { Histogram, counter, createMetricsRegistry, gauge, streamGroup, type Redis, type Registry } from "@flash-sale/node-common";

export class WorkerMetrics {
  readonly registry: Registry = createMetricsRegistry("order-worker");
  /** Each order counts once, when its status goes pending → confirmed after the commit. */
  readonly ordersDrained = counter(this.registry, "fs_worker_orders_drained_total", "Orders written to Postgres and confirmed in Redis, by sale (rate() = orders drained per second).", ["sale"]);
  /** Each status change counts once, when it is set on its row (a redelivery finds it set). */
  readonly statusesApplied = counter(
    this.registry,
    "fs_worker_statuses_applied_total",
    "Order status changes (paid, expired, failed) read from a sale's status change stream and set on their orders rows in Postgres, by sale and status.",
    ["sale", "status"],
  );
  readonly statusesWaiting = gauge(this.registry, "fs_worker_statuses_waiting", "Status changes this worker holds, pending, because their order has no row in Postgres yet; tried again with every batch.");
  readonly malformedEntries = counter(this.registry, "fs_worker_malformed_entries_total", "Stream entries that were not a valid order or status change: acknowledged and skipped.");
  readonly orderCollisions = counter(
    this.registry,
    "fs_worker_order_collisions_total",
    "Orders kept out of Postgres by another order holding their order id or (sale, user, unit count), with another user or request id: set aside, not confirmed.",
    ["sale"],
  );
  readonly deadLetters = counter(
    this.registry,
    "fs_worker_dead_letters_total",
    "Stream entries set aside in order_dead_letters and acknowledged, by reason: collision, or refused (by Postgres, FS_WORKER_MAX_DELIVERIES times).",
    ["sale", "reason"],
  );
  readonly batchDuration = new Histogram({
    name: "fs_worker_batch_duration_seconds",
    help: "Time to drain one batch: Postgres write and commit, then confirm and acknowledge in Redis.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly backlog = gauge(
    this.registry,
    "fs_worker_stream_backlog_entries",
    "Entries of a sale's order stream not yet acknowledged by the workers: never delivered (lag) plus delivered and pending.",
    ["sale"],
  );
  private readonly lagSeconds = gauge(
    this.registry,
    "fs_worker_stream_lag_seconds",
    "Age of the oldest entry of a sale's order stream not yet acknowledged: how far behind the drain is (0 when caught up).",
    ["sale"],
  );

  constructor(private readonly redis: Redis) {}

  /** The text of GET /metrics, with the backlog read afresh. */
  async scrape(): Promise<string> {
    const configs = await this.redis.hgetall(SALE_CONFIGS_KEY);
    const saleIds = Object.keys(configs);
    const backlogs = await Promise.all(saleIds.map((id) => this.saleBacklog(id, Number((JSON.parse(configs[id]!) as { stockBuckets?: number }).stockBuckets ?? 1))));
    this.backlog.reset();
    this.lagSeconds.reset();
    const now = Date.now();
    saleIds.forEach((sale, i) => {
      const b = backlogs[i]!;
      this.backlog.set({ sale }, b.entries);
      this.lagSeconds.set({ sale }, b.oldestId === undefined ? 0 : Math.max(0, now - entryTimeMs(b.oldestId)) / 1000);
    });
    return this.registry.metrics();
  }

  /** Over the sale's stock buckets: their entries summed, the oldest of their oldest. */
  private async saleBacklog(saleId: string, buckets: number): Promise<Backlog> {
    const parts = await Promise.all(bucketKeysOf(saleId, buckets).map((k) => this.backlogOf(k.stream)));
    const oldest = parts.map((p) => p.oldestId).filter((id): id is string => id !== undefined).sort((a, b) => entryTimeMs(a) - entryTimeMs(b))[0];
    return { entries: parts.reduce((n, p) => n + p.entries, 0), oldestId: oldest };
  }

  /**
   * lag + pending of the workers' group (the whole stream while the group does not exist yet),
   * and the oldest of those entries: the oldest pending one, else the first never delivered.
   */
  private async backlogOf(stream: string): Promise<Backlog> {
    if ((await this.redis.exists(stream)) === 0) return { entries: 0, oldestId: undefined };
    const group = streamGroup(await this.redis.call("XINFO", "GROUPS", stream), ORDER_CONSUMER_GROUP);
    if (group !== undefined) {
      // Redis 7 reports lag; null when it cannot tell (entries deleted): the length, an upper bound.
      const undelivered = group.lag ?? (await this.redis.xlen(stream));
      return { entries: undelivered + group.pending, oldestId: await this.oldestUnacknowledged(stream, group.pending, group.lastDeliveredId) };
    }
    const [first] = await this.redis.xrange(stream, "-", "+", "COUNT", 1);
    return { entries: await this.redis.xlen(stream), oldestId: first?.[0] };
  }

  private async oldestUnacknowledged(stream: string, pending: number, lastDelivered: string): Promise<string | undefined> {
    if (pending > 0) {
      // XPENDING's summary: [count, smallest id, greatest id, consumers].
      const summary = (await this.redis.xpending(stream, ORDER_CONSUMER_GROUP)) as [number, string | null, ...unknown[]];
      if (summary[1] !== null) return summary[1];
    }
    const [next] = await this.redis.xrange(stream, `(${lastDelivered}`, "+", "COUNT", 1);
    return next?.[0];
  }
}

interface Backlog {
  entries: number;
  /** Id of the oldest entry not yet acknowledged; undefined when there is none. */
  oldestId: string | undefined;
}

/** A stream entry id is `<ms>-<seq>`: when Redis added it. */
function entryTimeMs(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}
