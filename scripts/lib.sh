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

# Waits until "$@" succeeds, up to $WAIT_TRIES × 0.2 s.
wait_until() {
  local tries=${WAIT_TRIES:-100}
  until "$@" >/dev/null 2>&1; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.2
  done
}
