-- The outbox is pruned (control-plane/src/webhooks/prune.ts): an event's deliveries are looked up
-- by event, to tell whether any still waits and to delete them with it; the foreign key's check
-- on each event deleted reads this index too.
CREATE INDEX webhook_deliveries_event_seq ON webhook_deliveries (event_seq);
