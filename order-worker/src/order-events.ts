/**
 * An order's event in the webhook outbox (migrations/013_webhooks.sql), written by the same
 * statement as the order row or status it reports, so that an event exists exactly when its
 * change committed. The data is the order as stored then (docs/webhooks.md).
 */

/** ISO 8601 in UTC with milliseconds, as the admin API writes times. */
function iso(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * `INSERT … SELECT` of one event per row of `source`, a CTE returning the orders columns; the
 * event's type is `order.<status>`. Its row count is the rows of `source`, unless `onConflict`
 * skips some.
 */
export function insertOrderEvents(source: string, onConflict = ""): string {
  return `
INSERT INTO webhook_events (type, subject, sale_id, order_id, data)
SELECT 'order.' || status, order_id, sale_id, order_id, jsonb_build_object(
  'orderId', order_id, 'saleId', sale_id, 'userId', user_id, 'quantity', quantity,
  'price', price, 'currency', currency, 'amount', price * quantity, 'status', status,
  'acceptedAt', ${iso("accepted_at")}, 'statusChangedAt', ${iso("status_changed_at")})
FROM ${source} ${onConflict}`;
}

/** The orders columns insertOrderEvents reads, for a RETURNING clause of a statement on `table`. */
export function eventColumns(table: string): string {
  return ["order_id", "sale_id", "user_id", "quantity", "price", "currency", "status", "accepted_at", "status_changed_at"]
    .map((c) => `${table}.${c}`)
    .join(", ");
}
