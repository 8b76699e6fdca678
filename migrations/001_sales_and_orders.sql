-- Sales (the control plane's record) and orders (drained from the Redis streams).

CREATE TABLE sales (
  id                       text PRIMARY KEY,
  name                     text        NOT NULL,
  price                    integer     NOT NULL CHECK (price >= 0),
  currency                 char(3)     NOT NULL,
  stock                    integer     NOT NULL CHECK (stock >= 0),
  starts_at                timestamptz NOT NULL,
  ends_at                  timestamptz NOT NULL,
  per_user_limit           integer     NOT NULL CHECK (per_user_limit >= 1),
  deduction                text        NOT NULL CHECK (deduction IN ('order', 'payment', 'reserve')),
  payment_timeout_seconds  integer,
  challenge                boolean     NOT NULL DEFAULT false,
  limits                   jsonb       NOT NULL,
  paused                   boolean     NOT NULL DEFAULT false,
  published_version        bigint,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at)
);

-- One row per accepted order. Re-delivery from the stream is harmless: the primary key and
-- the (sale, user, user_units) key make a second insert of the same order a no-op. user_units
-- is the user's running unit count after this order, so it differs for each of a user's orders.
CREATE TABLE orders (
  order_id     text        PRIMARY KEY,
  sale_id      text        NOT NULL REFERENCES sales (id),
  order_no     bigint      NOT NULL,
  user_id      text        NOT NULL,
  user_units   integer     NOT NULL CHECK (user_units >= 1),
  quantity     integer     NOT NULL CHECK (quantity >= 1),
  status       text        NOT NULL DEFAULT 'confirmed',
  request_id   text,
  accepted_at  timestamptz NOT NULL,
  persisted_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (sale_id, order_no),
  UNIQUE (sale_id, user_id, user_units)
);

CREATE INDEX orders_sale_id_idx ON orders (sale_id);
