#!/usr/bin/env bash
# Starts the stack's Redis (from FS_REDIS_URL) if nothing answers there; AOF on, fsynced as
# FS_REDIS_APPENDFSYNC says (docs/guarantees.md, "What a 202 guarantees").
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
fsync="${FS_REDIS_APPENDFSYNC:-always}"
case "$fsync" in always|everysec) ;; *) die "FS_REDIS_APPENDFSYNC must be always or everysec, got '$fsync'" ;; esac
step "Starting Redis on $host:$port (appendfsync $fsync)"
mkdir -p "$RUN_DIR/redis"
redis-server --daemonize yes --bind "$host" --port "$port" --dir "$RUN_DIR/redis" \
  --appendonly yes --appendfsync "$fsync" --save "" \
  --pidfile "$RUN_DIR/redis.pid" --logfile "$RUN_DIR/logs/redis.log"
wait_until redis-cli -h "$host" -p "$port" ping || die "Redis did not start (see $RUN_DIR/logs/redis.log)"
