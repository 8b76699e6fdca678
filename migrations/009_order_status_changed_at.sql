-- When an order was paid, expired or failed: the time Redis stamped its status change (the
-- entry id of the sale's status change stream), set by the order worker with the status.
ALTER TABLE orders ADD COLUMN status_changed_at timestamptz;
