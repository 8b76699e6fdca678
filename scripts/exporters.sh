#!/usr/bin/env bash
# Starts the stack's Redis and Postgres exporters (Debian's prometheus-redis-exporter and
# prometheus-postgres-exporter) unless they run, each under scripts/supervise.js, on
# 127.0.0.1:FS_REDIS_EXPORTER_PORT (9121) and 127.0.0.1:FS_POSTGRES_EXPORTER_PORT (9187):
# ops/prometheus/prometheus.yml scrapes them as the jobs redis and postgres. `make down` stops them.
. "$(dirname "$0")/lib.sh"
load_env
redis_port=${FS_REDIS_EXPORTER_PORT:-9121}
pg_port=${FS_POSTGRES_EXPORTER_PORT:-9187}

# The addresses go in the environment, not the command line, where ps would show their passwords.
if [ -n "${FS_REDIS_CLUSTER_NODES:-}" ]; then
  info "FS_REDIS_CLUSTER_NODES is set: no Redis exporter (one exporter watches one node)"
else
  REDIS_ADDR="$FS_REDIS_URL" start_supervised redis-exporter \
    prometheus-redis-exporter -web.listen-address "127.0.0.1:$redis_port"
  WAIT_TRIES=50 wait_until curl -fsS "http://127.0.0.1:$redis_port/metrics" \
    || die "the Redis exporter does not answer (see .run/logs/redis-exporter.log)"
fi

# The services' driver uses TLS only when the URL asks; the exporter's would insist on it.
dsn=$FS_DATABASE_URL
case "$dsn" in *sslmode=*) ;; *\?*) dsn="$dsn&sslmode=disable" ;; *) dsn="$dsn?sslmode=disable" ;; esac
DATA_SOURCE_NAME="$dsn" start_supervised postgres-exporter \
  prometheus-postgres-exporter --web.listen-address "127.0.0.1:$pg_port"
WAIT_TRIES=50 wait_until curl -fsS "http://127.0.0.1:$pg_port/metrics" \
  || die "the Postgres exporter does not answer (see .run/logs/postgres-exporter.log)"
