#!/bin/sh
# Starts a gateway in its pod: the rendered config (ConfigMap, read-only) copied into a writable
# prefix, one nginx worker per CPU of the container's limit (FS_GATEWAY_CPUS, from the Downward
# API: nginx's `auto` would count the node's cores), logs to the container's output.
set -eu
PREFIX=/var/lib/flash-sale
mkdir -p "$PREFIX/logs" "$PREFIX/tmp"
cp /etc/flash-sale/nginx.conf /etc/flash-sale/errors.conf /etc/flash-sale/pages.conf "$PREFIX/"
sed -i "s/^worker_processes .*/worker_processes ${FS_GATEWAY_CPUS:-1};/" "$PREFIX/nginx.conf"
ln -sf /dev/stdout "$PREFIX/logs/access.log"
ln -sf /dev/stderr "$PREFIX/logs/error.log"
exec openresty -p "$PREFIX" -c "$PREFIX/nginx.conf" -g "daemon off;"
