-- Operators and API tokens (control-plane/src/operators): each person and service acts under its
-- own identity with a role, and the audit names it. Admin UI sessions belong to an operator, a
-- token, or (neither) the bootstrap credential FS_ADMIN_TOKEN; they end with their owner.
CREATE TABLE operators (
  id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name           text        NOT NULL UNIQUE,
  email          text        UNIQUE,
  role           text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  disabled       boolean     NOT NULL DEFAULT false,
  -- Local sign-in: an argon2id hash (PHC string) and a TOTP secret (base32); null: none.
  password_hash  text,
  totp_secret    text,
  -- The OpenID provider's subject, bound at the first sign-in matched by email.
  oidc_subject   text        UNIQUE,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 digest of each token is kept: the token itself is shown once.
CREATE TABLE api_tokens (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name          text        NOT NULL,
  role          text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  token_digest  bytea       NOT NULL UNIQUE,
  created_by    text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  last_used_at  timestamptz
);

ALTER TABLE admin_sessions
  ADD COLUMN id          bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
  ADD COLUMN operator_id bigint      REFERENCES operators (id) ON DELETE CASCADE,
  ADD COLUMN token_id    bigint      REFERENCES api_tokens (id) ON DELETE CASCADE,
  ADD COLUMN address     text        NOT NULL DEFAULT '',
  ADD COLUMN created_at  timestamptz NOT NULL DEFAULT now();

-- Failures are counted by account as well as by address; a device that signed in to an account
-- before (its cookie's digest kept here) is not held back by that account's count.
ALTER TABLE admin_login_failures ADD COLUMN account text NOT NULL DEFAULT '';
CREATE INDEX admin_login_failures_account_idx ON admin_login_failures (account, failed_at);

CREATE TABLE admin_login_devices (
  device_digest  bytea       PRIMARY KEY,
  account        text        NOT NULL,
  expires_at     timestamptz NOT NULL
);
