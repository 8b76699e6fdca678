-- A sale's purchase latency kept with its traffic (015): the gateways' histogram of purchase times
-- by sale (fs_gateway_sale_purchase_duration_seconds), its cumulative bucket counts by upper bound
-- ("le", "+Inf" last) summed over the gateways that answered, as totals like `requests`: readers
-- take differences. Null when no purchase was timed (seconds kept before this column existed).
ALTER TABLE sale_traffic_seconds ADD COLUMN purchase_latency jsonb;
