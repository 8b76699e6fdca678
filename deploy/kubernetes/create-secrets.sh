#!/usr/bin/env bash
# Prints the namespace flash-sale and its Secret flash-sale-secrets for `kubectl apply -f -`; nothing is written to disk or
# kept in git. Keys: jwt-secret (FS_JWT_SECRET), admin-token (FS_ADMIN_TOKEN),
# payment-webhook-secret (FS_PAYMENT_WEBHOOK_SECRET), database-url (FS_DATABASE_URL) and, for
# the try overlay's Postgres, pg-password.
#
#   deploy/kubernetes/create-secrets.sh try | kubectl apply -f -
#       random values, the database URL of the in-cluster Postgres
#   FS_DATABASE_URL=postgres://… FS_JWT_SECRET=… FS_ADMIN_TOKEN=… [FS_PAYMENT_WEBHOOK_SECRET=…] \
#     deploy/kubernetes/create-secrets.sh production | kubectl apply -f -
#       the shop's own values (or manage the Secret with the shop's secret store instead)
set -euo pipefail
random() { head -c 48 /dev/urandom | base64 | tr -d '/+=\n' | head -c "$1"; }
b64() { printf '%s' "$1" | base64 | tr -d '\n'; }

case "${1:-}" in
  try)
    pg=$(random 32)
    jwt=$(random 48)
    admin=$(random 40)
    webhook=$(random 40)
    db="postgres://flashsale:$pg@postgres:5432/flashsale"
    ;;
  production)
    : "${FS_DATABASE_URL:?set FS_DATABASE_URL}" "${FS_JWT_SECRET:?set FS_JWT_SECRET}" "${FS_ADMIN_TOKEN:?set FS_ADMIN_TOKEN}"
    pg=""
    jwt=$FS_JWT_SECRET
    admin=$FS_ADMIN_TOKEN
    webhook=${FS_PAYMENT_WEBHOOK_SECRET:-}
    db=$FS_DATABASE_URL
    ;;
  *)
    echo "usage: $0 try|production" >&2
    exit 2
    ;;
esac

cat <<YAML
apiVersion: v1
kind: Namespace
metadata:
  name: flash-sale
---
apiVersion: v1
kind: Secret
metadata:
  name: flash-sale-secrets
  namespace: flash-sale
type: Opaque
data:
  jwt-secret: $(b64 "$jwt")
  admin-token: $(b64 "$admin")
  database-url: $(b64 "$db")
YAML
[ -z "$webhook" ] || echo "  payment-webhook-secret: $(b64 "$webhook")"
[ -z "$pg" ] || echo "  pg-password: $(b64 "$pg")"
