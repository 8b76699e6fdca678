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

start_supervised "control-plane$suffix" node "$ROOT/control-plane/build/main.js"
start_supervised "order-worker$suffix" node "$ROOT/order-worker/build/main.js"
WAIT_TRIES=150 wait_until curl -fsS "http://127.0.0.1:${FS_ADMIN_PORT:-3000}/healthz" \
  || die "the control plane does not answer (see .run/logs/control-plane.log)"
WAIT_TRIES=150 wait_until curl -fsS "http://${FS_WORKER_METRICS_HOST:-127.0.0.1}:${FS_WORKER_METRICS_PORT:-9464}/metrics" \
  || die "the order worker does not answer (see .run/logs/order-worker$suffix.log)"
