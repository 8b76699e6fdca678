# The two commands a newcomer needs: `make up` (whole stack + demo sale) and `make test`.
.PHONY: up down test build bench reload

up:        ## install what is missing, start everything, create the demo sale
	@bash scripts/up.sh

down:      ## stop what `make up` started
	@bash scripts/down.sh

test:      ## every test, against real nginx, Redis and Postgres
	@bash scripts/test.sh

build:     ## compile the gateway Lua and the TypeScript projects
	@bash scripts/build.sh

reload:    ## re-render the nginx config from nginx-conf/, check it (nginx -t), reload without downtime
	@bash scripts/nginx.sh

bench:     ## wrk benchmark of the gateway against its ceilings, and the worker's drain rate
	@bash scripts/bench.sh
