-- The dispatcher claims due deliveries in (next_attempt_at, event_seq) order
-- (control-plane/src/webhooks/dispatcher.ts). A fan-out gives all its deliveries one
-- next_attempt_at (its transaction's now()), so an index on next_attempt_at alone made each
-- claim read and sort every delivery of that fan-out (10,000: ~150 ms) to take the first few;
-- in this one a claim reads only the rows it takes and those it skips.
CREATE INDEX webhook_deliveries_claim_order ON webhook_deliveries (next_attempt_at, event_seq) WHERE delivered_at IS NULL;
DROP INDEX webhook_deliveries_due;
