#!/usr/bin/env bash
# Stops what `make up` started, by pid: nginx, the control plane, the order worker, and
# Redis and Postgres when it was make up that started them.
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

stop_pid nginx "$RUN_DIR/nginx/nginx.pid" QUIT
# The supervisors forward SIGTERM to their service and do not restart it.
for name in control-plane order-worker; do
  stop_pid "$name" "$RUN_DIR/$name.pid"
  # Left behind only when its supervisor was killed.
  stop_pid "$name (unsupervised)" "$RUN_DIR/$name.child.pid"
done
stop_pid redis "$RUN_DIR/redis.pid"
if [ -f "$RUN_DIR/postgres.started-by-us" ]; then
  step "Stopping Postgres ($(cat "$RUN_DIR/postgres.cluster"))"
  # shellcheck disable=SC2046
  pg_ctlcluster $(cat "$RUN_DIR/postgres.cluster") stop || true
  rm -f "$RUN_DIR/postgres.started-by-us"
fi
info "stopped"
