-- Order ids that never repeat: `<sale>.<epoch>.<n>`. A sale's epoch is issued here each time
-- its Redis state is (re)built, so numbers that Redis forgot and hands out again belong to a
-- new epoch. A sale's revision counts its changes: what Redis applied is guarded by it.

ALTER TABLE sales ADD COLUMN epoch integer NOT NULL DEFAULT 0;
ALTER TABLE sales ADD COLUMN revision bigint NOT NULL DEFAULT 1;

ALTER TABLE orders ADD COLUMN epoch integer NOT NULL DEFAULT 1;
ALTER TABLE orders DROP CONSTRAINT orders_sale_id_order_no_key;
ALTER TABLE orders ADD CONSTRAINT orders_sale_epoch_order_no_key UNIQUE (sale_id, epoch, order_no);

ALTER TABLE sale_audit DROP CONSTRAINT sale_audit_action_check;
ALTER TABLE sale_audit ADD CONSTRAINT sale_audit_action_check
  CHECK (action IN ('create', 'update', 'publish', 'pause', 'resume', 'end', 'delete', 'repair'));

-- Epochs come from a sequence: nextval is never rolled back, so an epoch is never issued twice
-- even when the build that took it fails.
CREATE SEQUENCE sale_epochs;
