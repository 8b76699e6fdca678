-- The control plane commits a change to Postgres first and applies it to Redis after the
-- commit. published_at marks a sale as published (set in the publish's own transaction), so a
-- publish killed before it reached Redis still leaves a published sale, which the
-- keep-sales-built job applies; published_version only records the config version Redis last
-- answered.

ALTER TABLE sales ADD COLUMN published_at timestamptz;
UPDATE sales SET published_at = updated_at WHERE published_version IS NOT NULL;
