#!/usr/bin/env bash
# Starts the Node services (control plane, order worker) in the background unless they run,
# with logs in .run/logs and pids in .run/*.pid.
. "$(dirname "$0")/lib.sh"
load_env

start_service() {
  local name=$1 main=$2
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
kill -0 "$(cat "$RUN_DIR/order-worker.pid")" 2>/dev/null || die "the order worker exited (see .run/logs/order-worker.log)"
