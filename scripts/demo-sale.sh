#!/usr/bin/env bash
# Creates the demo sale (opens a minute from now, 100 units, 30 minutes) unless it exists.
. "$(dirname "$0")/lib.sh"
load_env

ADMIN="http://127.0.0.1:${FS_ADMIN_PORT:-3000}/admin/api/sales"
auth=(-H "Authorization: Bearer $FS_ADMIN_TOKEN")
if curl -fsS "${auth[@]}" "$ADMIN/demo" >/dev/null 2>&1; then
  info "the demo sale exists already"
  exit 0
fi
step "Creating the demo sale"
starts=$(date -u -d '+60 seconds' +%Y-%m-%dT%H:%M:%SZ)
ends=$(date -u -d '+30 minutes' +%Y-%m-%dT%H:%M:%SZ)
curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -X POST "$ADMIN" -d @- >/dev/null <<JSON || die "creating the demo sale failed"
{"id":"demo","name":"Demo flash sale","price":999,"currency":"USD","stock":100,
 "startsAt":"$starts","endsAt":"$ends","perUserLimit":1,"deduction":"order"}
JSON
info "demo sale: opens $starts, ends $ends, 100 units"
