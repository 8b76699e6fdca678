/**
 * Prunes the webhook outbox: an order's event written more than the retention ago (the knob
 * FS_WEBHOOK_RETENTION_DAYS) whose deliveries are all delivered, or that no endpoint took, is
 * deleted with its deliveries. One waiting for any endpoint (retried, or its endpoint disabled)
 * stays until delivered; a sale's events stay (three per sale), since the dispatcher tells by
 * them that they were written. Replays reach back as far as the retention.
 *
 * Batches of a few hundred events, each its own statement and transaction, so no lock is held
 * for longer than one batch; the events taken are locked FOR UPDATE SKIP LOCKED, so several
 * control planes pruning at once split the work. A replay that adds a delivery to an event
 * while a batch deletes it makes that batch fail on the foreign key, deleting nothing; the
 * next run tries again.
 */
import type { Pool } from "@flash-sale/node-common";

const PRUNE = `
WITH doomed AS (
  SELECT ev.seq FROM webhook_events ev
   WHERE ev.order_id IS NOT NULL AND ev.fanned_out AND ev.created_at < now() - $1 * interval '1 millisecond'
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = ev.seq AND d.delivered_at IS NULL)
   ORDER BY ev.created_at
   LIMIT $2
   FOR UPDATE SKIP LOCKED
),
deliveries AS (DELETE FROM webhook_deliveries d USING doomed WHERE d.event_seq = doomed.seq)
DELETE FROM webhook_events ev USING doomed WHERE ev.seq = doomed.seq`;

export const PRUNE_BATCH = 500;

/** Deletes the events due, batch after batch until a batch finds fewer than `batch`; answers how many and in how many batches. */
export async function pruneWebhookOutbox(pool: Pool, retentionMs: number, batch = PRUNE_BATCH): Promise<{ events: number; batches: number }> {
  let events = 0;
  let batches = 0;
  for (;;) {
    const deleted = (await pool.query(PRUNE, [retentionMs, batch])).rowCount ?? 0;
    events += deleted;
    batches += 1;
    if (deleted < batch) return { events, batches };
  }
}
