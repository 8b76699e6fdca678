#!/usr/bin/env bash
# Renders the gateway's nginx config into .run/nginx and starts nginx, or reloads it when it
# runs already, and the rotation of its logs when that does not run. The new config must pass `nginx -t` first: a broken one is refused, the files
# in force are put back, and the running nginx keeps serving the old config.
# FS_NGINX_PREFIX and FS_NGINX_LISTEN point it at another gateway (the reload tests do).
. "$(dirname "$0")/lib.sh"
load_env

PREFIX="${FS_NGINX_PREFIX:-$RUN_DIR/nginx}"
LISTEN="${FS_NGINX_LISTEN:-${FS_GATEWAY_PORT:-8080}}"
PORT="${LISTEN##*:}"
CONF="$PREFIX/nginx.conf"
PID_FILE="$PREFIX/nginx.pid"
ERROR_LOG="$PREFIX/logs/error.log"
bench_args=()
[ -n "${FS_BENCH_LISTEN:-}" ] && bench_args=(--bench-listen "$FS_BENCH_LISTEN")

# The files in force, to put back when the new config is refused.
SAVED="$PREFIX/.in-force"
mkdir -p "$SAVED"
rm -f "$SAVED"/*.conf
for f in "$PREFIX"/*.conf; do [ -e "$f" ] && cp -p "$f" "$SAVED"/; done
refuse() {
  for f in "$SAVED"/*.conf; do [ -e "$f" ] && cp -p "$f" "$PREFIX"/; done
  die "$1; the config in force is unchanged"
}

step "Rendering the nginx config (nginx-conf/knobs.conf)"
node "$ROOT/nginx-conf/build/cli.js" --prefix "$PREFIX" --listen "$LISTEN" "${bench_args[@]}" >/dev/null \
  || refuse "rendering failed (see above)"
nginx -t -q -p "$PREFIX" -c "$CONF" || refuse "the rendered nginx config is invalid (see above)"

if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  step "Reloading nginx (gateway on $LISTEN)"
  log_size=$(stat -c %s "$ERROR_LOG" 2>/dev/null || echo 0)
  nginx -p "$PREFIX" -c "$CONF" -s reload
  # The master applies the config after the signal; what nginx -t cannot see (a port in use)
  # makes it keep the old one and log [emerg].
  sleep 0.5
  if tail -c +"$((log_size + 1))" "$ERROR_LOG" 2>/dev/null | grep -q '\[emerg\]'; then
    tail -c +"$((log_size + 1))" "$ERROR_LOG" | grep '\[emerg\]' >&2
    die "nginx refused the new config at reload (see $ERROR_LOG); the old one keeps serving"
  fi
else
  step "Starting nginx (gateway on $LISTEN)"
  nginx -p "$PREFIX" -c "$CONF"
fi
wait_until curl -fsS "http://127.0.0.1:$PORT/api/time" || die "the gateway does not answer (see $ERROR_LOG)"

# Rotation by size beside this gateway (nginx-conf/src/log-rotation.ts), supervised; it stops by
# itself when this gateway stops, and `make down` stops it. Its pid files live in the prefix, so
# each gateway, and each checkout, has its own.
ROTATION_PID_FILE="$PREFIX/log-rotation.pid"
if ! { [ -f "$ROTATION_PID_FILE" ] && kill -0 "$(cat "$ROTATION_PID_FILE")" 2>/dev/null; }; then
  step "Starting the log rotation (log: $PREFIX/logs/log-rotation.log)"
  nohup node "$ROOT/scripts/supervise.js" --name log-rotation --log "$PREFIX/logs/log-rotation.log" \
    --child-pid-file "$PREFIX/log-rotation.child.pid" -- node "$ROOT/nginx-conf/build/log-rotation-cli.js" --prefix "$PREFIX" \
    </dev/null >>"$PREFIX/logs/log-rotation.log" 2>&1 &
  echo $! >"$ROTATION_PID_FILE"
fi
