#!/usr/bin/env bash
# Makes sure a demo sale is coming or open: reuses a demo sale that has not ended, else creates
# one (opens a minute from now, 100 units, 30 minutes). Writes its id to .run/demo-sale-id.
. "$(dirname "$0")/lib.sh"
load_env

ADMIN="http://127.0.0.1:${FS_ADMIN_PORT:-3000}/admin/api/sales"
auth=(-H "Authorization: Bearer $FS_ADMIN_TOKEN")
live=$(curl -fsS "${auth[@]}" "$ADMIN" | node -e '
  let text = ""; process.stdin.on("data", (c) => (text += c)).on("end", () => {
    const sale = JSON.parse(text).sales.find((s) => s.id.startsWith("demo") && s.state !== "ended");
    process.stdout.write(sale ? sale.id : "");
  });') || die "the admin API does not answer"
if [ -n "$live" ]; then
  info "demo sale '$live' has not ended; keeping it"
  echo "$live" > "$RUN_DIR/demo-sale-id"
  exit 0
fi
id="demo-$(date -u +%Y%m%d-%H%M%S)"
step "Creating the demo sale '$id'"
starts=$(date -u -d '+60 seconds' +%Y-%m-%dT%H:%M:%SZ)
ends=$(date -u -d '+30 minutes' +%Y-%m-%dT%H:%M:%SZ)
curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -X POST "$ADMIN" -d @- >/dev/null <<JSON || die "creating the demo sale failed"
{"id":"$id","name":"Demo flash sale","price":999,"currency":"USD","stock":100,
 "startsAt":"$starts","endsAt":"$ends","perUserLimit":1,"deduction":"order"}
JSON
echo "$id" > "$RUN_DIR/demo-sale-id"
info "demo sale '$id': opens $starts, ends $ends, 100 units"
