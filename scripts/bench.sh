#!/usr/bin/env bash
# Benchmarks (not part of the tests): the gateway under wrk against its ceilings (and by shoppers'
# token algorithm), ten sales on one Redis primary against a cluster of three, a rush with the
# shipped knobs, an open-loop overload, then the order worker's drain rate and the webhooks'
# delivery rate and lag. Each uses its own Redis and database; results go to bench/results/.
. "$(dirname "$0")/lib.sh"
prepare_checkout
step "Type-checking the benchmarks"
npx tsc -p bench
step "Gateway benchmark (wrk)"
npx tsx bench/gateway.ts
step "Shoppers' tokens: a purchase admitted with HS256, RS256 and ES256 tokens, first sight and remembered (wrk)"
npx tsx bench/token-algorithms.ts
step "Queue poll cost: a waiting room's poll against a turned-away purchase (pairs, nginx CPU per request)"
npx tsx bench/queue-poll-cost.ts
BENCH_SHIPPED=1 npx tsx bench/queue-poll-cost.ts
step "Script benchmark: Redis time inside purchase.lua as a sale takes orders"
npx tsx bench/script-time.ts
step "Cluster benchmark: ten sales on 1 Redis primary vs 3 (wrk)"
npx tsx bench/cluster.ts
step "Rush benchmark: a sell-out, 100 concurrent sales, a million shoppers (wrk, shipped knobs)"
npx tsx bench/rush.ts
step "Overload benchmark: open-loop at 3x what the gateway answers (shipped knobs)"
npx tsx bench/overload.ts
step "Order worker drain benchmark"
npx tsx bench/drain.ts
step "Webhooks: events per second to a local receiver, and a 202's lag to its order.confirmed at the drain rate"
npx tsx bench/webhooks.ts
