-- Slots a sale's stock is split over (stock buckets, core/buckets.ts); 1: the whole sale on one slot.
ALTER TABLE sales ADD COLUMN stock_buckets integer NOT NULL DEFAULT 1 CHECK (stock_buckets BETWEEN 1 AND 16);
