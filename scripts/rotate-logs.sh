#!/usr/bin/env bash
# Rotates the gateway's logs without losing a line: renames access.log and error.log with a
# UTC timestamp, then USR1 makes every nginx worker flush its buffered lines into the renamed
# files and reopen fresh ones. FS_NGINX_PREFIX names another gateway (the tests use it).
. "$(dirname "$0")/lib.sh"

PREFIX="${FS_NGINX_PREFIX:-$RUN_DIR/nginx}"
PID_FILE="$PREFIX/nginx.pid"
[ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null || die "no gateway runs from $PREFIX"
stamp=$(date -u +%Y%m%dT%H%M%S.%N)
rotated=()
for name in access error; do
  file="$PREFIX/logs/$name.log"
  [ -f "$file" ] || continue
  mv "$file" "$file.$stamp"
  rotated+=("$file.$stamp")
done
kill -USR1 "$(cat "$PID_FILE")"
# The workers reopen within moments; the error log is the first file they create again.
WAIT_TRIES=50 wait_until test -f "$PREFIX/logs/error.log" || die "nginx did not reopen its logs (see $PREFIX/logs)"
info "rotated: ${rotated[*]:-nothing}"
