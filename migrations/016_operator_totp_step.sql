-- A TOTP code is taken once (RFC 6238 5.2): the time step of the last code an operator signed in
-- with; a code of that step or an earlier one is refused. Null: none used since the secret was set.
ALTER TABLE operators ADD COLUMN totp_last_step bigint;
