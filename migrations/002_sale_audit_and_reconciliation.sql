-- Every change an admin makes to a sale: who, when, what it was, what it became.
-- No foreign key to sales: the trail of a deleted sale is kept.

CREATE TABLE sale_audit (
  id        bigserial   PRIMARY KEY,
  sale_id   text        NOT NULL,
  action    text        NOT NULL CHECK (action IN ('create', 'update', 'publish', 'pause', 'resume', 'end', 'delete')),
  actor     text        NOT NULL,
  at        timestamptz NOT NULL DEFAULT now(),
  before    jsonb,
  after     jsonb
);

CREATE INDEX sale_audit_sale_id_idx ON sale_audit (sale_id, id);

-- The last reconciliation of each sale (Redis against Postgres), written by the reconcile job
-- every minute and shown in the sale's stats. No foreign key (the repository deletes a deleted
-- sale's row), so that truncating sales stays possible.
CREATE TABLE sale_reconciliation (
  sale_id           text        PRIMARY KEY,
  checked_at        timestamptz NOT NULL,
  total             integer     NOT NULL,
  units_left        integer,
  units_sold        integer     NOT NULL,
  unit_drift        integer     NOT NULL,
  orders_accepted   integer     NOT NULL,
  orders_persisted  integer     NOT NULL,
  orders_in_flight  integer,
  order_drift       integer
);
