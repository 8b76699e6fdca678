-- Reconciliation checks more than units and drained orders: units taken by the orders, the
-- counter against the highest order number, owners of orders in both stores, the oldest entry
-- waiting and the workers reading the stream. Results are recomputed every minute, so the
-- old rows (whose order_drift could be null) are dropped rather than filled in.

TRUNCATE sale_reconciliation;
ALTER TABLE sale_reconciliation
  ALTER COLUMN orders_in_flight SET NOT NULL,
  ALTER COLUMN order_drift SET NOT NULL,
  ADD COLUMN units_taken_by_orders   integer,
  ADD COLUMN taken_drift             integer,
  ADD COLUMN highest_order_no        bigint           NOT NULL,
  ADD COLUMN counter_behind          integer          NOT NULL,
  ADD COLUMN owner_mismatches        integer          NOT NULL,
  ADD COLUMN owner_mismatch_examples jsonb            NOT NULL,
  ADD COLUMN oldest_pending_seconds  double precision,
  ADD COLUMN live_workers            integer          NOT NULL,
  ADD COLUMN worker_down             boolean          NOT NULL;
