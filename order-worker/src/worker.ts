/**
 * The drain loop: read a batch, write its orders to Postgres (commit), then confirm and
 * acknowledge them in Redis, with up to BATCHES_IN_FLIGHT batches between read and ack.
 * Acknowledging only after the commit means a crash anywhere leaves the entries pending, to
 * be redelivered and inserted again as no-ops.
 */
import type { Logger } from "@flash-sale/node-common";
import { crashIfAt, type FaultPoint } from "./faults";
import type { OrderConfirmer, SaleAck } from "./order-confirmer";
import { parseOrderEntry, type OrderRow, type RawEntry } from "./order-entry";
import type { OrderWriter } from "./order-writer";
import { withRetry } from "./retry";
import type { StreamReader } from "./stream-reader";
import type { WorkerMetrics } from "./worker-metrics";

export interface WorkerParts {
  reader: StreamReader;
  writer: OrderWriter;
  confirmer: OrderConfirmer;
  logger: Logger;
  backoffMaxMs: number;
  fault: FaultPoint | undefined;
  metrics: WorkerMetrics;
}

/**
 * Batches written at once, each on its own Postgres connection: a batch spends most of its
 * time in Postgres (index and foreign-key work on one core), so a second one in flight keeps
 * another core busy while this process reads and confirms.
 */
export const BATCHES_IN_FLIGHT = 2;

/** A batch committed to Postgres, waiting to be confirmed and acknowledged in Redis. */
interface Committed {
  acks: SaleAck[];
  entries: number;
  orders: number;
  writeMs: number;
  /** performance.now() when the batch's write began. */
  startedAt: number;
}

export class OrderWorker {
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;

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
    const inFlight = new Set<Promise<void>>();
    for (;;) {
      const entries = await this.read();
      if (entries === undefined) break;
      if (entries.length === 0) continue;
      const batch: Promise<void> = this.write(entries)
        .then((committed) => committed && this.confirm(committed))
        .finally(() => inFlight.delete(batch));
      inFlight.add(batch);
      if (inFlight.size >= BATCHES_IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  /** The next batch (maybe empty), or undefined once stopping. */
  private async read(): Promise<RawEntry[] | undefined> {
    if (this.stopping.signal.aborted) return undefined;
    const { reader } = this.parts;
    const read = await withRetry(async () => {
      try {
        return await reader.next();
      } catch (err) {
        reader.invalidate();
        throw err;
      }
    }, { ...this.retry, what: "redis read" });
    return read.ok ? read.value : undefined;
  }

  /** Commits the batch's well-formed orders; undefined when stopping cut the retries short. */
  private async write(entries: RawEntry[]): Promise<Committed | undefined> {
    const { writer, logger } = this.parts;
    const startedAt = performance.now();
    const rows: OrderRow[] = [];
    const skipped: RawEntry[] = [];
    for (const entry of entries) {
      const parsed = parseOrderEntry(entry);
      if (parsed.ok) rows.push(parsed.row);
      else {
        skipped.push(entry);
        this.parts.metrics.malformedEntries.inc();
        logger.warn({ sale: entry.saleId, entry: entry.id, reason: parsed.reason }, "malformed order entry: acknowledged and skipped");
      }
    }

    let committed = rows;
    if (rows.length > 0) {
      const written = await withRetry(() => writer.write(rows), { ...this.retry, what: "postgres insert" });
      if (!written.ok) {
        logger.warn({ entries: entries.length, error: written.error }, "stopping with a batch unwritten: its entries stay pending for the next worker");
        return undefined;
      }
      if (written.value.alreadyWritten > 0) {
        logger.info({ orders: written.value.alreadyWritten }, "redelivered orders already in Postgres: skipped");
      }
      const unknown = written.value.unknownSales;
      if (unknown.length > 0) {
        // Left pending, not acknowledged: claimed and tried again once the sale's row exists.
        committed = rows.filter((r) => !unknown.includes(r.saleId));
        logger.error({ sales: unknown, orders: rows.length - committed.length }, "orders for sales missing in Postgres left pending");
      }
      crashIfAt(this.parts.fault, "after-commit", (msg) => logger.warn(msg));
    }
    const acks = groupBySale(committed, skipped);
    return { acks, entries: entries.length, orders: committed.length, writeMs: performance.now() - startedAt, startedAt };
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
      { ...confirmed.value, entries: batch.entries, orders: batch.orders, writeMs: ms(batch.writeMs), confirmMs: ms(performance.now() - startedAt) },
      "batch drained",
    );
  }
}

function groupBySale(rows: OrderRow[], skipped: RawEntry[]): SaleAck[] {
  const bySale = new Map<string, SaleAck>();
  const ackOf = (saleId: string): SaleAck => {
    let ack = bySale.get(saleId);
    if (ack === undefined) bySale.set(saleId, (ack = { saleId, orders: [], entryIds: [] }));
    return ack;
  };
  for (const r of rows) {
    const ack = ackOf(r.saleId);
    ack.orders.push([r.epoch, r.orderNo]);
    ack.entryIds.push(r.entryId);
  }
  for (const e of skipped) ackOf(e.saleId).entryIds.push(e.id);
  return [...bySale.values()];
}
