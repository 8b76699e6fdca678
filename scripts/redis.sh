#!/usr/bin/env bash
# Starts the stack's Redis (from FS_REDIS_URL) if nothing answers there; AOF on, everysec.
. "$(dirname "$0")/lib.sh"
load_env
if [ -n "${FS_REDIS_CLUSTER_NODES:-}" ]; then
  info "FS_REDIS_CLUSTER_NODES is set: the services use that Redis Cluster (make up-cluster runs one)"
  exit 0
fi

hostport="${FS_REDIS_URL#redis://}"; hostport="${hostport##*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" != "$hostport" ] || port=6379

if redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; then
  info "Redis is running on $host:$port"
  exit 0
fi
step "Starting Redis on $host:$port"
mkdir -p "$RUN_DIR/redis"
redis-server --daemonize yes --bind "$host" --port "$port" --dir "$RUN_DIR/redis" \
  --appendonly yes --appendfsync everysec --save "" \
  --pidfile "$RUN_DIR/redis.pid" --logfile "$RUN_DIR/logs/redis.log"
wait_until redis-cli -h "$host" -p "$port" ping || die "Redis did not start (see $RUN_DIR/logs/redis.log)"
