# The gateway's image: the OpenResty image docker-compose.yml runs, with what compose mounts
# into it (the compiled Lua, the built pages) copied in. The config comes from the ConfigMap
# (deploy/kubernetes). Build from the repository root after `make compose-prepare`:
#   docker build -f deploy/docker/gateway.Dockerfile -t flash-sale/gateway:1.0.0 .
FROM openresty/openresty:1.25.3.2-bookworm
COPY gateway-lua/build/lua /opt/flash-sale/lua
COPY static/build/public /opt/flash-sale/static
# A graceful stop (nginx -s quit), not SIGTERM's fast one.
STOPSIGNAL SIGQUIT
