#!/usr/bin/env bash
# Renders the gateway's nginx config into .run/nginx and starts nginx, or reloads it when it
# runs already (after `nginx -t`; a broken config is refused and the old one keeps serving).
. "$(dirname "$0")/lib.sh"
load_env

PREFIX="$RUN_DIR/nginx"
CONF="$PREFIX/nginx.conf"
PID_FILE="$PREFIX/nginx.pid"
bench_args=()
[ -n "${FS_BENCH_LISTEN:-}" ] && bench_args=(--bench-listen "$FS_BENCH_LISTEN")

step "Rendering the nginx config (nginx-conf/knobs.conf)"
node "$ROOT/nginx-conf/build/cli.js" --prefix "$PREFIX" --listen "${FS_GATEWAY_PORT:-8080}" "${bench_args[@]}" >/dev/null
nginx -t -q -p "$PREFIX" -c "$CONF" || die "the rendered nginx config is invalid (see above); nothing changed"

if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  step "Reloading nginx (gateway on port ${FS_GATEWAY_PORT:-8080})"
  nginx -p "$PREFIX" -c "$CONF" -s reload
else
  step "Starting nginx (gateway on port ${FS_GATEWAY_PORT:-8080})"
  nginx -p "$PREFIX" -c "$CONF"
fi
wait_until curl -fsS "http://127.0.0.1:${FS_GATEWAY_PORT:-8080}/api/time" || die "the gateway does not answer (see $PREFIX/logs/error.log)"
