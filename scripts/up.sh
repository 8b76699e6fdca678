#!/usr/bin/env bash
# Starts the whole stack on this machine with a demo sale: installs what is missing, starts
# Postgres and Redis, builds, starts the control plane, the order worker, the Redis and Postgres
# exporters and nginx (gateway).
. "$(dirname "$0")/lib.sh"
S="$ROOT/scripts"
# Its services would be reused, on the cluster.
[ ! -f "$RUN_DIR/cluster/nodes" ] || die "the stack of 'make up-cluster' is running: 'make down' first"
bash "$S/install.sh"
bash "$S/env.sh"
bash "$S/postgres.sh"
bash "$S/redis.sh"
bash "$S/build.sh"
bash "$S/services.sh"
bash "$S/exporters.sh"
bash "$S/nginx.sh"
bash "$S/demo-sale.sh"
load_env
token=$(node "$ROOT/control-plane/build/cli/mint-token.js" demo-shopper 86400 2>/dev/null)
demo=$(cat "$RUN_DIR/demo-sale-id")
gw="http://127.0.0.1:${FS_GATEWAY_PORT:-8080}"
cat <<TXT

The stack is up.
  gateway (public API)   $gw          e.g. curl $gw/api/sales/$demo
  shopper pages          $gw/         (demo login in the browser: FS_NGINX_DEV_LOGIN=on make reload)
  admin API              http://127.0.0.1:${FS_ADMIN_PORT:-3000}/admin/api/sales   (Authorization: Bearer \$FS_ADMIN_TOKEN from .env.local)
  logs                   .run/logs/ (control-plane, order-worker, redis), .run/nginx/logs/ (access.log: JSON; rotated by size)
  metrics                /metrics of each part: ops/prometheus/prometheus.yml scrapes them (docs/operations.md, Observability)
  stop                   make down

Buy from the demo sale once it opens (a demo shopper token, valid one day):
  curl -X POST $gw/api/sales/$demo/purchase -H 'Content-Type: application/json' \\
       -H 'Authorization: Bearer $token' -d '{"quantity":1}'
TXT
