#!/usr/bin/env bash
# Starts the Node services (control plane, order worker) in the background unless they run, each
# under scripts/supervise.js (restarted when it dies), with logs in .run/logs, the supervisors'
# pids in .run/<name>.pid and the services' in .run/<name>.child.pid.
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
  local pid_file="$RUN_DIR/$name.pid" child_pid_file="$RUN_DIR/$name.child.pid"
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    info "$name is running (supervisor pid $(cat "$pid_file"))"
    return
  fi
  # A service left running by a supervisor that was killed would hold the ports of a new one.
  if [ -f "$child_pid_file" ] && kill -0 "$(cat "$child_pid_file")" 2>/dev/null; then
    die "$name runs without its supervisor (pid $(cat "$child_pid_file")): make down first"
  fi
  step "Starting $name, supervised (log: .run/logs/$name.log)"
  nohup node "$ROOT/scripts/supervise.js" --name "$name" --log "$RUN_DIR/logs/$name.log" \
    --child-pid-file "$child_pid_file" -- node "$ROOT/$main" >>"$RUN_DIR/logs/$name.log" 2>&1 &
  echo $! >"$pid_file"
}

start_service control-plane control-plane/build/main.js
start_service order-worker order-worker/build/main.js
WAIT_TRIES=150 wait_until curl -fsS "http://127.0.0.1:${FS_ADMIN_PORT:-3000}/healthz" \
  || die "the control plane does not answer (see .run/logs/control-plane.log)"
WAIT_TRIES=150 wait_until curl -fsS "http://${FS_WORKER_METRICS_HOST:-127.0.0.1}:${FS_WORKER_METRICS_PORT:-9464}/metrics" \
  || die "the order worker does not answer (see .run/logs/order-worker$suffix.log)"
