# Shared shell helpers for the project's scripts. Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="$ROOT/.run"
ENV_FILE="$ROOT/.env.local"
mkdir -p "$RUN_DIR/logs"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Loads .env.local (written by scripts/env.sh) into the environment, exported. The shop's identity
# provider settings (FS_JWT_JWKS_URL, FS_JWT_ISSUER, FS_JWT_AUDIENCE, FS_JWT_LEEWAY_SECONDS) given
# in the caller's environment win over the file's: `FS_JWT_JWKS_URL=… make up`.
load_env() {
  [ -f "$ENV_FILE" ] || die "$ENV_FILE is missing: run scripts/env.sh (make up does)"
  local given
  given=$(export -p | grep -E '^declare -x FS_JWT_(JWKS_URL|ISSUER|AUDIENCE|LEEWAY_SECONDS)=' || true)
  set -a
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  set +a
  eval "$given"
}

# What the tests and the benchmarks need first: the dependencies, .env.local, Postgres and a
# build; then the environment loaded and the checkout's root as the working folder.
prepare_checkout() {
  bash "$ROOT/scripts/install.sh"
  bash "$ROOT/scripts/env.sh"
  bash "$ROOT/scripts/postgres.sh"
  bash "$ROOT/scripts/build.sh"
  load_env
  cd "$ROOT"
}

# Waits until "$@" succeeds, up to $WAIT_TRIES × 0.2 s.
wait_until() {
  local tries=${WAIT_TRIES:-100}
  until "$@" >/dev/null 2>&1; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.2
  done
}

# Starts "$@" in the background under scripts/supervise.js (restarted when it dies) as NAME,
# unless it runs: its log in .run/logs/NAME.log, the supervisor's pid in .run/NAME.pid and the
# service's in .run/NAME.child.pid (scripts/down.sh stops both).
start_supervised() {
  local name=$1; shift
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
    --child-pid-file "$child_pid_file" -- "$@" >>"$RUN_DIR/logs/$name.log" 2>&1 &
  echo $! >"$pid_file"
}
