#!/usr/bin/env bash
# Starts the Node services (control plane, order worker) in the background unless they run,
# with logs in .run/logs and pids in .run/*.pid.
# FS_SERVICE_INSTANCE=<n> (make up-cluster): the n-th of each, on FS_ADMIN_PORT + n - 1 and
# FS_WORKER_METRICS_PORT + n - 1, the worker named <host>-worker-<n>; files <name>-<n> from n = 2.
. "$(dirname "$0")/lib.sh"
load_env
suffix=""
if [ -n "${FS_SERVICE_INSTANCE:-}" ]; then
  n=$FS_SERVICE_INSTANCE
  export FS_ADMIN_PORT=$((${FS_ADMIN_PORT:-3000} + n - 1))
  export FS_WORKER_METRICS_PORT=$((${FS_WORKER_METRICS_PORT:-9464} + n - 1))
  export FS_WORKER_NAME="$(hostname)-worker-$n"
  [ "$n" -eq 1 ] || suffix="-$n"
fi

start_service() {
  local name=$1$suffix main=$2
  local pid_file="$RUN_DIR/$name.pid"
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    info "$name is running (pid $(cat "$pid_file"))"
    return
  fi
  step "Starting $name (log: .run/logs/$name.log)"
  nohup node "$ROOT/$main" >>"$RUN_DIR/logs/$name.log" 2>&1 &
  echo $! >"$pid_file"
}

start_service control-plane control-plane/build/main.js
start_service order-worker order-worker/build/main.js
WAIT_TRIES=150 wait_until curl -fsS "http://127.0.0.1:${FS_ADMIN_PORT:-3000}/healthz" \
  || die "the control plane does not answer (see .run/logs/control-plane.log)"
kill -0 "$(cat "$RUN_DIR/order-worker$suffix.pid")" 2>/dev/null || die "the order worker exited (see .run/logs/order-worker$suffix.log)"
