# The two commands a newcomer needs: `make up` (whole stack + demo sale) and `make test`.
.PHONY: up up-cluster down test build bench reload logs-rotate compose-prepare

up:        ## install what is missing, start everything, create the demo sale
	@bash scripts/up.sh

up-cluster: ## the same on a six-node Redis Cluster (7001–7006), two gateways, control planes and workers
	@bash scripts/cluster.sh

down:      ## stop what `make up` or `make up-cluster` started
	@bash scripts/down.sh

test:      ## every test, against real nginx, Redis and Postgres
	@bash scripts/test.sh

build:     ## compile the gateway Lua and the TypeScript projects
	@bash scripts/build.sh

reload:    ## re-render the nginx config from nginx-conf/, check it (nginx -t), reload without downtime
	@bash scripts/nginx.sh

logs-rotate: ## rename the gateway's logs with a timestamp and make nginx reopen them (USR1): no line lost
	@bash scripts/rotate-logs.sh

bench:     ## wrk benchmark of the gateway against its ceilings, 1 vs 3 Redis primaries, and the worker's drain rate
	@bash scripts/bench.sh

compose-prepare: build ## build the Lua and render the nginx config for the OpenResty image (docker-compose.yml; a prefix per gateway)
	@for out in openresty openresty-cluster-1 openresty-cluster-2; do \
	  FS_NGINX_METRICS_LISTEN=9145 node nginx-conf/build/cli.js --flavor openresty --prefix /var/lib/flash-sale --out .run/$$out \
	    --listen 8080 --lua-dir /opt/flash-sale/lua --static-dir /opt/flash-sale/static || exit 1; \
	done
