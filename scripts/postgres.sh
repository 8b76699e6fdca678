#!/usr/bin/env bash
# Starts the machine's Postgres cluster if it is not running, and creates the project's role
# (with CREATEDB, for the tests' databases) and database with the password from .env.local.
. "$(dirname "$0")/lib.sh"
load_env

# postgres://user:password@host:port/db
url="${FS_DATABASE_URL#postgres*://}"
pg_user="${url%%:*}"; rest="${url#*:}"
pg_password="${rest%%@*}"; rest="${rest#*@}"
pg_port="${rest#*:}"; pg_port="${pg_port%%/*}"
pg_db="${rest#*/}"; pg_db="${pg_db%%\?*}"

if ! pg_isready -q -h 127.0.0.1 -p "$pg_port"; then
  step "Starting Postgres on port $pg_port"
  cluster=$(pg_lsclusters -h | awk -v p="$pg_port" '$3 == p {print $1" "$2; exit}')
  [ -n "$cluster" ] || die "no Postgres cluster is set up on port $pg_port (pg_lsclusters)"
  # shellcheck disable=SC2086
  pg_ctlcluster $cluster start
  touch "$RUN_DIR/postgres.started-by-us"
  echo "$cluster" > "$RUN_DIR/postgres.cluster"
  WAIT_TRIES=150 wait_until pg_isready -h 127.0.0.1 -p "$pg_port" || die "Postgres did not become ready"
else
  info "Postgres is running on port $pg_port"
fi

psql_admin() { runuser -u postgres -- psql -p "$pg_port" -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$pg_user'")" != "1" ]; then
  step "Creating Postgres role $pg_user"
  psql_admin -c "CREATE ROLE \"$pg_user\" LOGIN CREATEDB PASSWORD '$pg_password'"
elif ! PGPASSWORD="$pg_password" psql -h 127.0.0.1 -p "$pg_port" -U "$pg_user" -d postgres -qtAc 'SELECT 1' >/dev/null 2>&1; then
  # Only when this checkout's password does not log in already: the role is this checkout's
  # (scripts/env.sh), so setting it never locks out a stack that runs from another checkout.
  step "Setting the password of Postgres role $pg_user (from .env.local)"
  psql_admin -c "ALTER ROLE \"$pg_user\" LOGIN CREATEDB PASSWORD '$pg_password'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$pg_db'")" != "1" ]; then
  step "Creating Postgres database $pg_db"
  psql_admin -c "CREATE DATABASE \"$pg_db\" OWNER \"$pg_user\""
fi
