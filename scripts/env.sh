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
sed -e "s#postgres://flashsale:CHANGE_ME@#postgres://flashsale:${pg_password}@#" \
    -e "s#^FS_JWT_SECRET=CHANGE_ME#FS_JWT_SECRET=$(gen 48)#" \
    -e "s#^FS_ADMIN_TOKEN=CHANGE_ME#FS_ADMIN_TOKEN=$(gen 40)#" \
    -e "s#^FS_PAYMENT_WEBHOOK_SECRET=CHANGE_ME#FS_PAYMENT_WEBHOOK_SECRET=$(gen 48)#" \
    "$ROOT/.env.example" > "$ENV_FILE"
chmod 600 "$ENV_FILE"
info "wrote $ENV_FILE"
