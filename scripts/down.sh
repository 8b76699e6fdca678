#!/usr/bin/env bash
# Stops what `make up` or `make up-cluster` started, by pid: nginx and its log rotation, the
# control plane, the order worker (each twice for the cluster), the Redis and Postgres exporters,
# and Redis (the cluster's nodes) and Postgres when it was make up that started them.
. "$(dirname "$0")/lib.sh"

stop_pid() {
  local name=$1 pid_file=$2 signal=${3:-TERM}
  [ -f "$pid_file" ] || return 0
  local pid; pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    step "Stopping $name (pid $pid)"
    kill -s "$signal" "$pid"
    WAIT_TRIES=150 wait_until bash -c "! kill -0 $pid" || { info "$name did not stop in 30 s; killing it"; kill -9 "$pid" 2>/dev/null || true; }
  fi
  rm -f "$pid_file"
}

# The log rotation beside each gateway (scripts/nginx.sh), supervised like the services below.
for gw in nginx nginx-2; do
  stop_pid "$gw log rotation" "$RUN_DIR/$gw/log-rotation.pid"
  stop_pid "$gw log rotation (unsupervised)" "$RUN_DIR/$gw/log-rotation.child.pid"
done
stop_pid nginx "$RUN_DIR/nginx/nginx.pid" QUIT
stop_pid nginx-2 "$RUN_DIR/nginx-2/nginx.pid" QUIT
# The supervisors forward SIGTERM to their service and do not restart it; -2: make up-cluster's
# second instances; the exporters of scripts/exporters.sh.
for name in control-plane order-worker control-plane-2 order-worker-2 redis-exporter postgres-exporter; do
  stop_pid "$name" "$RUN_DIR/$name.pid"
  # Left behind only when its supervisor was killed.
  stop_pid "$name (unsupervised)" "$RUN_DIR/$name.child.pid"
done
stop_pid redis "$RUN_DIR/redis.pid"
# make up-cluster's Redis Cluster nodes.
for pid_file in "$RUN_DIR"/cluster/*/redis.pid; do
  if [ -e "$pid_file" ]; then stop_pid "redis node :$(basename "$(dirname "$pid_file")")" "$pid_file"; fi
done
rm -f "$RUN_DIR/cluster/nodes"
if [ -f "$RUN_DIR/postgres.started-by-us" ]; then
  step "Stopping Postgres ($(cat "$RUN_DIR/postgres.cluster"))"
  # shellcheck disable=SC2046
  pg_ctlcluster $(cat "$RUN_DIR/postgres.cluster") stop || true
  rm -f "$RUN_DIR/postgres.started-by-us"
fi
info "stopped"
