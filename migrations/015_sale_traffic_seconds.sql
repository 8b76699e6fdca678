-- A sale's traffic, one row per second of its life, kept by the control plane's keep-traffic job
-- from the gateways' metrics so that the live page and the sale's report outlive the gateways
-- and the browser. Counters are the fleet's totals at that second (summed over the gateways that
-- answered): readers take differences, so a tick that no instance ran loses nothing. No foreign
-- key: a deleted sale's series stays with its audit.
CREATE TABLE sale_traffic_seconds (
  sale_id   text        NOT NULL,
  second    timestamptz NOT NULL,
  -- Requests the gateways answered for the sale since they started, by outcome.
  requests  jsonb       NOT NULL,
  gateways  integer     NOT NULL,
  -- The waiting room's figures (joined, admitted, passesUsed, passesExpired); null without one.
  queue     jsonb,
  PRIMARY KEY (sale_id, second)
);
