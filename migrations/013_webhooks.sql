-- Order and sale events for the shop's webhook endpoints (docs/webhooks.md). webhook_events is
-- the outbox: the order worker writes an order's event in the same statement as the row or
-- status it reports; the dispatcher writes a sale's when it sees the sale start, sell out or end.
-- The dispatcher fans each event out to the endpoints subscribed to its type (one delivery row
-- per endpoint and event, holding its attempts) and delivers those, an order's in seq order.
CREATE TABLE webhook_events (
  seq         bigserial   PRIMARY KEY,
  type        text        NOT NULL,
  -- The order or sale the event is about: one event of a type per subject, whoever writes it twice.
  subject     text        NOT NULL,
  sale_id     text        NOT NULL,
  -- Set for order events: an endpoint gets an order's events in seq order.
  order_id    text,
  data        jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  fanned_out  boolean     NOT NULL DEFAULT false,
  UNIQUE (type, subject)
);
CREATE INDEX webhook_events_to_fan_out ON webhook_events (seq) WHERE NOT fanned_out;
CREATE INDEX webhook_events_created_at ON webhook_events (created_at);

CREATE TABLE webhook_endpoints (
  id                    text        PRIMARY KEY,
  url                   text        NOT NULL,
  events                text[]      NOT NULL,
  description           text,
  -- whsec_…: the dispatcher signs with it, so it is kept as is (like the payment webhook's).
  secret                text        NOT NULL,
  -- After a rotation the old secret signs too, until previous_secret_until.
  previous_secret       text,
  previous_secret_until timestamptz,
  -- Set when its deliveries kept failing for the retry window; its deliveries wait, kept.
  disabled_at           timestamptz,
  disabled_reason       text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
  endpoint_id     text        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_seq       bigint      NOT NULL REFERENCES webhook_events (seq),
  order_id        text,
  attempts        integer     NOT NULL DEFAULT 0,
  -- Also the lease of a dispatcher sending it: moved past the send's timeout when claimed.
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- Since when it has failed without a success: past the retry window its endpoint is disabled.
  first_failed_at timestamptz,
  last_attempt_at timestamptz,
  last_status     integer,
  last_error      text,
  delivered_at    timestamptz,
  PRIMARY KEY (endpoint_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX webhook_deliveries_undelivered_of_order ON webhook_deliveries (endpoint_id, order_id, event_seq)
  WHERE delivered_at IS NULL AND order_id IS NOT NULL;
