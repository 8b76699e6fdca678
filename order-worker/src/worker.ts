/**
 * The drain loop: read a batch, write its orders to Postgres (commit), then apply its status
 * changes, then confirm and acknowledge them in Redis, with up to BATCHES_IN_FLIGHT batches
 * between read and ack. Acknowledging only after the commit means a crash anywhere leaves the
 * entries pending, to be redelivered and inserted (or applied) again as no-ops.
 *
 * A status change can come before its order's row: the two are on two streams, read side by
 * side, and the order may be in the other batch in flight, on another worker, or pending on a
 * dead one. Such a change is kept pending in Redis (not acknowledged) and in hand here, and
 * tried again with every later batch and on every idle read until the row is there.
 */
import type { Logger } from "@flash-sale/node-common";
import { crashIfAt, type Fault } from "./faults";
import type { OrderConfirmer, SaleAck } from "./order-confirmer";
import { parseOrderEntry, type OrderRow } from "./order-entry";
import type { DeadLetter, OrderWriter, Refusal } from "./order-writer";
import type { EntryRef } from "./pending-entries";
import type { RawEntry } from "./raw-entry";
import { parseStatusEntry, type StatusRow } from "./status-entry";
import type { StatusWriter } from "./status-writer";
import { withRetry } from "./retry";
import type { StreamReader } from "./stream-reader";
import type { WorkerMetrics } from "./worker-metrics";

export interface WorkerParts {
  reader: StreamReader;
  writer: OrderWriter;
  statusWriter: StatusWriter;
  confirmer: OrderConfirmer;
  logger: Logger;
  backoffMaxMs: number;
  fault: Fault | undefined;
  metrics: WorkerMetrics;
  /** How often the stream has delivered each entry (see pending-entries.ts). */
  deliveries: (entries: EntryRef[]) => Promise<number[]>;
  /** Deliveries after which a row Postgres keeps refusing is set aside (FS_WORKER_MAX_DELIVERIES). */
  maxDeliveries: number;
}

/**
 * Batches written at once, each on its own Postgres connection: a batch spends most of its
 * time in Postgres (index and foreign-key work on one core), so a second one in flight keeps
 * another core busy while this process reads and confirms.
 */
export const BATCHES_IN_FLIGHT = 2;

/** How often, at most, status changes waiting for their orders are tried again while no entries come. */
const WAITING_RETRY_MS = 200;

/** A batch committed to Postgres, waiting to be confirmed and acknowledged in Redis. */
interface Committed {
  acks: SaleAck[];
  entries: number;
  orders: number;
  statuses: number;
  writeMs: number;
  /** performance.now() when the batch's write began. */
  startedAt: number;
}

export class OrderWorker {
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  /** Status changes whose order has no row yet, by sale and entry id: still pending in Redis. */
  private readonly waiting = new Map<string, StatusRow>();
  /** performance.now() when the waiting changes were last tried. */
  private waitingTriedAt = 0;

  constructor(private readonly parts: WorkerParts) {}

  /** Runs until stop(); rejects only on a bug (every backend failure is retried). */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  /** Stops reading; the batches in hand are finished (commit + ack) unless a backend fails. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private get retry() {
    return { logger: this.parts.logger, maxDelayMs: this.parts.backoffMaxMs, signal: this.stopping.signal };
  }

  private async run(): Promise<void> {
    /** Batches in hand, with when the read that brought each was sent (performance.now()). */
    const inFlight = new Map<Promise<void>, number>();
    /** Their entries: a claim that races the check in read() may bring one back, never to be written twice. */
    const inHand = new Set<string>();
    for (;;) {
      const readAt = performance.now();
      const read = await this.read(Math.min(...inFlight.values()));
      if (read === undefined) break;
      const entries = read.filter((e) => !inHand.has(entryKey(e)));
      if (entries.length < read.length) this.parts.logger.info({ entries: read.length - entries.length }, "claimed entries already in hand: left to their batch");
      if (entries.length === 0 && !this.waitingDue()) continue;
      const keys = entries.map(entryKey);
      for (const k of keys) inHand.add(k);
      const batch: Promise<void> = this.write(entries)
        .then((committed) => committed && this.confirm(committed))
        .finally(() => {
          inFlight.delete(batch);
          for (const k of keys) inHand.delete(k);
        });
      inFlight.set(batch, readAt);
      if (inFlight.size >= BATCHES_IN_FLIGHT) await Promise.race(inFlight.keys());
    }
    await Promise.all(inFlight.keys());
  }

  /** Whether an empty read should try the waiting status changes again: another worker may have committed their orders. */
  private waitingDue(): boolean {
    return this.waiting.size > 0 && performance.now() - this.waitingTriedAt >= WAITING_RETRY_MS;
  }

  /**
   * The next batch (maybe empty), or undefined once stopping. `heldSince`: when the oldest batch
   * in hand was read (Infinity: none), so that the reader claims no entry of its own.
   */
  private async read(heldSince: number): Promise<RawEntry[] | undefined> {
    if (this.stopping.signal.aborted) return undefined;
    const { reader } = this.parts;
    const read = await withRetry(async () => {
      try {
        return await reader.next(performance.now() - heldSince);
      } catch (err) {
        reader.invalidate();
        throw err;
      }
    }, { ...this.retry, what: "redis read" });
    return read.ok ? read.value : undefined;
  }

  /** Commits the batch's well-formed orders; undefined when stopping cut the retries short. */
  private async write(entries: RawEntry[]): Promise<Committed | undefined> {
    const { writer, logger, metrics } = this.parts;
    const startedAt = performance.now();
    const rows: OrderRow[] = [];
    const changes: StatusRow[] = [];
    const ackOnly: EntryRef[] = [];
    const statusAckOnly: EntryRef[] = [];
    for (const entry of entries) {
      const ofStatus = entry.source === "statuses";
      const parsed = ofStatus ? parseStatusEntry(entry) : parseOrderEntry(entry);
      if (parsed.ok) {
        if ("row" in parsed) rows.push(parsed.row);
        else changes.push(parsed.change);
      } else {
        (ofStatus ? statusAckOnly : ackOnly).push({ saleId: entry.saleId, entryId: entry.id, bucket: entry.bucket, buckets: entry.buckets });
        metrics.malformedEntries.inc();
        logger.warn(
          { sale: entry.saleId, entry: entry.id, reason: parsed.reason },
          `malformed ${ofStatus ? "status change" : "order"} entry: acknowledged and skipped`,
        );
      }
    }

    let committed: OrderRow[] = [];
    if (rows.length > 0) {
      const written = await withRetry(() => writer.write(rows), { ...this.retry, what: "postgres insert" });
      if (!written.ok) {
        logger.warn({ entries: entries.length, error: written.error }, "stopping with a batch unwritten: its entries stay pending for the next worker");
        return undefined;
      }
      const { inserted, collisions, refused, unknownSales } = written.value;
      committed = written.value.written;
      if (committed.length > inserted) {
        logger.info({ orders: committed.length - inserted }, "redelivered orders already in Postgres: skipped");
      }
      for (const { row, holder } of collisions) {
        metrics.orderCollisions.inc({ sale: row.saleId });
        metrics.deadLetters.inc({ sale: row.saleId, reason: "collision" });
        logger.error(
          { sale: row.saleId, entry: row.entryId, order: row.orderId, user: row.userId, requestId: row.requestId, heldBy: holder },
          `order collision: ${row.orderId} of user ${row.userId} meets order ${holder.orderId} of user ${holder.userId} in Postgres; set aside in order_dead_letters, not confirmed`,
        );
        ackOnly.push({ saleId: row.saleId, entryId: row.entryId, bucket: row.bucket, buckets: row.buckets });
      }
      if (refused.length > 0) ackOnly.push(...(await this.setAsideRefused(refused)));
      if (unknownSales.length > 0) {
        // Left pending, not acknowledged: claimed and tried again once the sale's row exists.
        const waiting = rows.filter((r) => unknownSales.includes(r.saleId)).length;
        logger.error({ sales: unknownSales, orders: waiting }, "orders for sales missing in Postgres left pending");
      }
    }
    // After the orders' commit: a change for an order of this batch finds its row.
    const applied = await this.applyStatuses(changes);
    if (rows.length > 0 || applied.length > 0) crashIfAt(this.parts.fault, "after-commit", (msg) => logger.warn(msg));
    const acks = groupBySale(committed, ackOnly, [...applied, ...statusAckOnly]);
    return { acks, entries: entries.length, orders: committed.length, statuses: applied.length, writeMs: performance.now() - startedAt, startedAt };
  }

  /**
   * Applies the batch's status changes and those still waiting for their orders' rows; returns
   * those applied (to acknowledge) and keeps the others waiting.
   */
  private async applyStatuses(fresh: StatusRow[]): Promise<EntryRef[]> {
    const { statusWriter, logger, metrics } = this.parts;
    const key = (c: StatusRow) => `${c.saleId} ${c.entryId}`;
    // A change claimed again (idle too long) is the one in hand: once.
    const changes = new Map([...this.waiting.values(), ...fresh].map((c) => [key(c), c]));
    this.waiting.clear();
    if (changes.size === 0) return [];
    this.waitingTriedAt = performance.now();
    const all = [...changes.values()];
    const result = await withRetry(() => statusWriter.apply(all), { ...this.retry, what: "postgres status update" });
    if (!result.ok) {
      logger.warn({ changes: all.length, error: result.error }, "stopping with status changes unapplied: they stay pending for the next worker");
      return [];
    }
    const { set, already, waiting } = result.value;
    for (const c of waiting) this.waiting.set(key(c), c);
    for (const c of set) metrics.statusesApplied.inc({ sale: c.saleId, status: c.status });
    if (already.length > 0) logger.info({ statuses: already.length }, "redelivered status changes already in Postgres: skipped");
    const freshKeys = new Set(fresh.map(key));
    const newlyWaiting = waiting.filter((c) => freshKeys.has(key(c))).length;
    if (newlyWaiting > 0) {
      logger.info({ statuses: newlyWaiting, waiting: waiting.length }, "status changes wait for their orders' rows: left pending, tried again with the next batches");
    }
    metrics.statusesWaiting.set(this.waiting.size);
    return [...set, ...already].map((c) => ({ saleId: c.saleId, entryId: c.entryId, bucket: c.bucket, buckets: c.buckets }));
  }

  /**
   * Rows Postgres refused on their own stay pending, to be tried again when claimed, until the
   * stream has delivered them maxDeliveries times: then they are set aside in order_dead_letters.
   * Returns the entries set aside, to acknowledge.
   */
  private async setAsideRefused(refused: Refusal[]): Promise<EntryRef[]> {
    const { writer, logger, metrics, maxDeliveries } = this.parts;
    const refs = refused.map(({ row }) => ({ saleId: row.saleId, entryId: row.entryId, bucket: row.bucket, buckets: row.buckets }));
    const counts = await withRetry(() => this.parts.deliveries(refs), { ...this.retry, what: "redis delivery counts" });
    if (!counts.ok) return [];
    const due: DeadLetter[] = [];
    refused.forEach(({ row, error }, i) => {
      const deliveries = counts.value[i] ?? 0;
      const fields = { sale: row.saleId, entry: row.entryId, order: row.orderId, deliveries, maxDeliveries, error };
      if (deliveries < maxDeliveries) {
        logger.warn(fields, `order ${row.orderId} refused by Postgres (${error}): left pending, delivery ${deliveries} of ${maxDeliveries}`);
      } else {
        due.push({ row, reason: "refused", detail: error, deliveries, conflictingOrderId: null });
        logger.error(fields, `order ${row.orderId} refused by Postgres ${deliveries} times (${error}): set aside in order_dead_letters`);
      }
    });
    if (due.length === 0) return [];
    const stored = await withRetry(() => writer.setAside(due), { ...this.retry, what: "postgres dead letters" });
    if (!stored.ok) return [];
    if (stored.value !== undefined) {
      logger.error({ entries: due.length, error: stored.value }, "dead letters refused by Postgres: entries left pending");
      return [];
    }
    for (const { row } of due) metrics.deadLetters.inc({ sale: row.saleId, reason: "refused" });
    return due.map(({ row }) => ({ saleId: row.saleId, entryId: row.entryId, bucket: row.bucket, buckets: row.buckets }));
  }

  private async confirm(batch: Committed): Promise<void> {
    if (batch.acks.length === 0) return;
    const { confirmer, logger } = this.parts;
    const startedAt = performance.now();
    const confirmed = await withRetry(() => confirmer.confirm(batch.acks), { ...this.retry, what: "redis confirm" });
    if (!confirmed.ok) {
      logger.warn({ entries: batch.entries, error: confirmed.error }, "stopping with a committed batch unacknowledged: it will be redelivered (no-op inserts)");
      return;
    }
    this.parts.metrics.batchDuration.observe((performance.now() - batch.startedAt) / 1000);
    const ms = (t: number) => Math.round(t * 10) / 10;
    logger.debug(
      { ...confirmed.value, entries: batch.entries, orders: batch.orders, statuses: batch.statuses, writeMs: ms(batch.writeMs), confirmMs: ms(performance.now() - startedAt) },
      "batch drained",
    );
  }
}

/** An entry's identity across the sales' streams. */
function entryKey(e: RawEntry): string {
  return `${e.saleId} ${e.bucket ?? 0} ${e.source} ${e.id}`;
}

/** Per sale (per stock bucket): the committed orders to confirm, and every entry of its two streams to acknowledge. */
function groupBySale(committed: OrderRow[], ackOnly: EntryRef[], statusAcks: EntryRef[]): SaleAck[] {
  const bySale = new Map<string, SaleAck>();
  const ackOf = ({ saleId, bucket, buckets }: EntryRef): SaleAck => {
    const key = `${saleId} ${bucket ?? 0}`;
    let ack = bySale.get(key);
    if (ack === undefined) bySale.set(key, (ack = { saleId, bucket, buckets, orders: [], entryIds: [], statusEntryIds: [] }));
    return ack;
  };
  for (const r of committed) {
    const ack = ackOf(r);
    ack.orders.push([r.epoch, r.orderNo]);
    ack.entryIds.push(r.entryId);
  }
  for (const e of ackOnly) ackOf(e).entryIds.push(e.entryId);
  for (const e of statusAcks) ackOf(e).statusEntryIds.push(e.entryId);
  return [...bySale.values()];
}
