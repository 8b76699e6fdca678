#!/usr/bin/env bash
# Writes .env.local from .env.example with generated secrets, once. Never overwrites it.
. "$(dirname "$0")/lib.sh"

if [ -f "$ENV_FILE" ]; then
  info ".env.local exists; keeping it"
  exit 0
fi
step "Generating .env.local (secrets for local use; not committed)"
gen() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
pg_password=$(gen 32)
# A role and database of this checkout's own: a second checkout on the same machine makes its
# own and never changes the credentials of a stack that runs from another one.
pg_name="flashsale_$(printf '%s' "$ROOT" | sha1sum | head -c 8)"
sed -e "s#postgres://flashsale:CHANGE_ME@127.0.0.1:5432/flashsale#postgres://${pg_name}:${pg_password}@127.0.0.1:5432/${pg_name}#" \
    -e "s#^FS_JWT_SECRET=CHANGE_ME#FS_JWT_SECRET=$(gen 48)#" \
    -e "s#^FS_ADMIN_TOKEN=CHANGE_ME#FS_ADMIN_TOKEN=$(gen 40)#" \
    -e "s#^FS_PAYMENT_WEBHOOK_SECRET=CHANGE_ME#FS_PAYMENT_WEBHOOK_SECRET=$(gen 48)#" \
    "$ROOT/.env.example" > "$ENV_FILE"
chmod 600 "$ENV_FILE"
info "wrote $ENV_FILE"
