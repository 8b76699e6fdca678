-- Stream entries the order worker set aside instead of an order row, then acknowledged:
--   collision  another order in Postgres holds this one's order id, or its (sale, user,
--              user_units), with another user or request id: two orders, one key
--   refused    Postgres refused the row on its own FS_WORKER_MAX_DELIVERIES times
-- Each keeps the order as its entry carried it, to replay or refund by hand. Loose types (the
-- time as epoch ms, no checks) so that a row the orders table refused still fits here; no
-- foreign key to sales. One row per entry: setting one aside twice is a no-op.
CREATE TABLE order_dead_letters (
  sale_id               text        NOT NULL,
  entry_id              text        NOT NULL,
  reason                text        NOT NULL CHECK (reason IN ('collision', 'refused')),
  detail                text        NOT NULL,
  -- How often the stream delivered the entry (refused only).
  deliveries            integer,
  -- The order already in Postgres (collision only).
  conflicting_order_id  text,
  order_id              text        NOT NULL,
  order_no              bigint      NOT NULL,
  user_id               text        NOT NULL,
  user_units            integer     NOT NULL,
  quantity              integer     NOT NULL,
  request_id            text,
  accepted_at_ms        bigint      NOT NULL,
  set_aside_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sale_id, entry_id)
);
