-- Admin UI sessions, shared by every control-plane instance and kept across restarts. Only a
-- digest of the session id is stored: a copy of this table logs nobody in.
CREATE TABLE admin_sessions (
  id_digest   bytea       PRIMARY KEY,
  csrf_token  text        NOT NULL,
  expires_at  timestamptz NOT NULL
);

CREATE INDEX admin_sessions_expires_at_idx ON admin_sessions (expires_at);
