-- Wrong admin tokens per client address, for the login throttle (control-plane/src/admin-ui/
-- login-throttle.ts), shared by every control-plane instance: N instances allow no more guesses
-- than one. Rows older than the throttle's window are deleted as new ones come.
CREATE TABLE admin_login_failures (
  address    text        NOT NULL,
  failed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX admin_login_failures_address_idx ON admin_login_failures (address, failed_at);
CREATE INDEX admin_login_failures_failed_at_idx ON admin_login_failures (failed_at);
