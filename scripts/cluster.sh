#!/usr/bin/env bash
# make up-cluster: the stack in its scaled-out shape on this machine. A Redis Cluster of six
# redis-server (FS_REDIS_CLUSTER_NODES, default 127.0.0.1:7001–7006: three primaries with a
# replica each, AOF on, data in .run/cluster/<port>), two gateways (FS_GATEWAY_PORT and the next
# port), two control planes (FS_ADMIN_PORT and the next), two order workers in one consumer
# group, and the demo sale. What runs already is reused, a formed cluster as it is. `make down`
# stops all of it.
. "$(dirname "$0")/lib.sh"
S="$ROOT/scripts"
MARKER="$RUN_DIR/cluster/nodes"

# The services of `make up` would be reused, on their one Redis.
if [ -f "$RUN_DIR/control-plane.pid" ] && kill -0 "$(cat "$RUN_DIR/control-plane.pid")" 2>/dev/null && [ ! -f "$MARKER" ]; then
  die "the stack of 'make up' (one Redis) is running: 'make down' first"
fi

bash "$S/install.sh"
bash "$S/env.sh"
load_env
export FS_REDIS_CLUSTER_NODES="${FS_REDIS_CLUSTER_NODES:-127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005,127.0.0.1:7006}"
IFS=, read -ra NODES <<<"$FS_REDIS_CLUSTER_NODES"
[ "${#NODES[@]}" -eq 6 ] || die "FS_REDIS_CLUSTER_NODES: this script runs six local nodes (three primaries, a replica each)"
bash "$S/postgres.sh"

cli() { local node=$1; shift; redis-cli -h "${node%:*}" -p "${node##*:}" "$@"; }
cluster_field() { cli "$1" cluster info | tr -d '\r' | sed -n "s/^$2://p"; }

step "Redis Cluster on $FS_REDIS_CLUSTER_NODES"
for node in "${NODES[@]}"; do
  port=${node##*:}
  if cli "$node" ping >/dev/null 2>&1; then
    info "node $node is running"
    continue
  fi
  mkdir -p "$RUN_DIR/cluster/$port"
  # A node may miss NODE_TIMEOUT ms before its replica takes over. Full coverage off: while one
  # shard has no primary, the others keep selling.
  redis-server --daemonize yes --bind "${node%:*}" --port "$port" --dir "$RUN_DIR/cluster/$port" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
    --cluster-require-full-coverage no \
    --appendonly yes --appendfsync everysec --save "" \
    --pidfile "$RUN_DIR/cluster/$port/redis.pid" --logfile "$RUN_DIR/logs/redis-$port.log"
done
for node in "${NODES[@]}"; do
  wait_until cli "$node" ping || die "Redis node $node did not start (see .run/logs/redis-${node##*:}.log)"
done

# A node that knows only itself is new; nodes restarted from their nodes.conf rejoin by themselves.
fresh=0
for node in "${NODES[@]}"; do
  if [ "$(cluster_field "$node" cluster_known_nodes)" = 1 ]; then fresh=$((fresh + 1)); fi
done
if [ "$fresh" -eq "${#NODES[@]}" ]; then
  step "Forming the cluster (redis-cli --cluster create, one replica per primary)"
  redis-cli --cluster create "${NODES[@]}" --cluster-replicas 1 --cluster-yes >"$RUN_DIR/logs/redis-cluster-create.log" \
    || die "redis-cli --cluster create failed (see .run/logs/redis-cluster-create.log)"
elif [ "$fresh" -gt 0 ]; then
  die "$fresh of the nodes are outside the cluster the others form: 'make down', remove .run/cluster, then 'make up-cluster'"
fi
cluster_ok() { for node in "${NODES[@]}"; do [ "$(cluster_field "$node" cluster_state)" = ok ] || return 1; done; }
WAIT_TRIES=150 wait_until cluster_ok || die "the cluster is not ok after 30 s (redis-cli -p ${NODES[0]##*:} cluster info)"
info "cluster ok"

bash "$S/build.sh"
echo "$FS_REDIS_CLUSTER_NODES" >"$MARKER"
FS_SERVICE_INSTANCE=1 bash "$S/services.sh"
FS_SERVICE_INSTANCE=2 bash "$S/services.sh"
bash "$S/exporters.sh"
metrics=${FS_GATEWAY_METRICS_URL#http://}; metrics=${metrics%%/*}
gw1=${FS_GATEWAY_PORT:-8080}
gw2=$((gw1 + 1))
metrics2="${metrics%:*}:$((${metrics##*:} + 1))"
FS_NGINX_METRICS_LISTEN="$metrics" bash "$S/nginx.sh"
FS_NGINX_PREFIX="$RUN_DIR/nginx-2" FS_NGINX_LISTEN="$gw2" FS_NGINX_METRICS_LISTEN="$metrics2" bash "$S/nginx.sh"
bash "$S/demo-sale.sh"

token=$(node "$ROOT/control-plane/build/cli/mint-token.js" demo-shopper 86400 2>/dev/null)
demo=$(cat "$RUN_DIR/demo-sale-id")
admin=${FS_ADMIN_PORT:-3000}
wm=${FS_WORKER_METRICS_PORT:-9464}
shards=$(cli "${NODES[0]}" cluster nodes | awk '$3 ~ /master/ { split($2, a, "@"); print "    primary " a[1] "  slots " $9 }')
cat <<TXT

The cluster stack is up.
  Redis Cluster          $FS_REDIS_CLUSTER_NODES   (redis-cli -c -p ${NODES[0]##*:} cluster nodes)
$shards
  gateways (public API)  http://127.0.0.1:$gw1  http://127.0.0.1:$gw2   e.g. curl http://127.0.0.1:$gw2/api/sales/$demo
  gateway metrics        http://$metrics/metrics  http://$metrics2/metrics
  admin API              http://127.0.0.1:$admin/admin/api/sales  http://127.0.0.1:$((admin + 1))/admin/api/sales   (Bearer \$FS_ADMIN_TOKEN)
  order workers          $(hostname)-worker-1, $(hostname)-worker-2 (one consumer group; metrics :$wm, :$((wm + 1)))
  logs                   .run/logs/ (control-plane, order-worker, *-2, redis-<port>), .run/nginx/logs/, .run/nginx-2/logs/
  stop                   make down

Buy from the demo sale once it opens (a demo shopper token, valid one day):
  curl -X POST http://127.0.0.1:$gw1/api/sales/$demo/purchase -H 'Content-Type: application/json' \\
       -H 'Authorization: Bearer $token' -d '{"quantity":1}'
TXT
