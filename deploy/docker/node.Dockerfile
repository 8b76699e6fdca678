# The control plane's and the order worker's image (and the migrations Job's): the Node image
# docker-compose.yml runs, with what compose mounts from the checkout copied in: the built
# workspaces and their production dependencies. Build from the repository root after `make build`:
#   docker build -f deploy/docker/node.Dockerfile -t flash-sale/node:1.0.0 .
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY contract/package.json contract/
COPY gateway-lua/package.json gateway-lua/
COPY node-common/package.json node-common/
COPY nginx-conf/package.json nginx-conf/
COPY control-plane/package.json control-plane/
COPY order-worker/package.json order-worker/
COPY static/package.json static/
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts
COPY contract/build contract/build
COPY contract/redis-scripts contract/redis-scripts
COPY node-common/build node-common/build
COPY control-plane/build control-plane/build
COPY order-worker/build order-worker/build
COPY migrations migrations
COPY openapi.yaml ./
USER node
