#!/usr/bin/env bash
# Installs what is missing: Debian packages (as root) and npm packages from the lock file.
. "$(dirname "$0")/lib.sh"

# docker-compose, prometheus (for promtool) and prometheus-alertmanager (for amtool) only check
# files in the tests: docker-compose.yml, the scrape configs, the dashboard's queries, /metrics and
# the Alertmanager route. None runs a service here. The exporters run under the stack's
# supervisor (scripts/exporters.sh), not as the packages' units.
PACKAGES=(nginx libnginx-mod-http-lua lua-nginx-redis lua-resty-core lua-nginx-string lua-cjson redis-server postgresql wrk
  docker-compose prometheus prometheus-alertmanager
  prometheus-redis-exporter prometheus-postgres-exporter
  systemd  # systemd-analyze verify checks ops/systemd's units
  chromium)  # the shopper pages' real-browser tests (driven by playwright-core)
# Units the packages enable at boot: the stack runs its own exporters on their ports, and no
# Alertmanager.
PACKAGE_UNITS=(prometheus-alertmanager prometheus-redis-exporter prometheus-postgres-exporter)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  step "Installing Debian packages: ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || die "installing packages needs root (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Package scripts must not start services: the project starts its own on its own terms.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  rm -f /usr/sbin/policy-rc.d
  systemctl disable --quiet "${PACKAGE_UNITS[@]}" 2>/dev/null || true
else
  info "Debian packages present"
fi

stamp="$ROOT/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$ROOT/package-lock.json" -nt "$stamp" ]; then
  step "Installing npm packages (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
else
  info "npm packages up to date"
fi
