-- A sale's waiting room ({opensBeforeSeconds, admitPerSecond, passSeconds}); NULL: none.
ALTER TABLE sales ADD COLUMN waiting_room jsonb;
