/**
 * Applies status changes (paid, expired, failed) to the orders rows in Postgres, in one
 * statement (its own transaction). A change whose row is not there yet — its order entry not
 * committed: in another batch in flight, pending on a worker that died, or its sale's row
 * missing — is told apart and not applied; the worker keeps it pending and tries again. A
 * change applied before (a redelivery) finds its row with that status and writes nothing.
 * The user must match: a change never lands on another order that holds the id in Postgres.
 */
import type { Pool } from "@flash-sale/node-common";
import { eventColumns, insertOrderEvents } from "./order-events";
import type { StatusRow } from "./status-entry";

// Each change set gets its order.<status> event in the webhook outbox by the same statement (an
// order changes status once; were one set twice, its second event would not stop the batch).
// The UPDATE judges which rows it sets: a concurrent apply of the same change (a claim while
// this worker still held it) waits for the row lock, then finds the status set and skips it.
const APPLY_STATUSES = `
WITH c AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS c(order_id, user_id, status, at_ms)),
updated AS (
  UPDATE orders SET status = c.status, status_changed_at = to_timestamp(c.at_ms / 1000.0) FROM c
   WHERE orders.order_id = c.order_id AND orders.user_id = c.user_id AND orders.status <> c.status
  RETURNING ${eventColumns("orders")}
),
events AS (${insertOrderEvents("updated", "ON CONFLICT (type, subject) DO NOTHING")})
SELECT o.order_id, EXISTS (SELECT 1 FROM updated u WHERE u.order_id = o.order_id) AS set
  FROM orders o JOIN c ON o.order_id = c.order_id AND o.user_id = c.user_id`;

export interface StatusResult {
  /** Changes set on their rows now: to acknowledge. */
  set: StatusRow[];
  /** Changes whose row had the status already (an earlier delivery set it): to acknowledge. */
  already: StatusRow[];
  /** Changes whose order is not in Postgres (yet): left pending. */
  waiting: StatusRow[];
}

export class StatusWriter {
  constructor(private readonly pool: Pool) {}

  /** Throws on a failure of Postgres itself: the changes are to be retried. */
  async apply(changes: StatusRow[]): Promise<StatusResult> {
    // One change per order ever (pay-order.lua and expire-reservations.lua decide an order once).
    const result = await this.pool.query<{ order_id: string; set: boolean }>(APPLY_STATUSES, [
      changes.map((c) => c.orderId),
      changes.map((c) => c.userId),
      changes.map((c) => c.status),
      changes.map((c) => c.atMs),
    ]);
    const found = new Map(result.rows.map((r) => [r.order_id, r.set]));
    return {
      set: changes.filter((c) => found.get(c.orderId) === true),
      already: changes.filter((c) => found.get(c.orderId) === false),
      waiting: changes.filter((c) => !found.has(c.orderId)),
    };
  }
}
