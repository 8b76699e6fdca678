#!/usr/bin/env bash
# Runs every test: installs what is missing, starts Postgres (the tests create their own
# databases on it; each test file starts its own Redis and nginx), builds, then jest.
. "$(dirname "$0")/lib.sh"
prepare_checkout
step "Type-checking the tests and benchmarks"
npx tsc -p tsconfig.test.json
npx tsc -p bench
step "Unit tests (jest: the gateway core in Node, schemas)"
npx jest --selectProjects unit --ci
step "Integration tests (jest: real nginx + compiled Lua, Redis, Postgres, worker)"
npx jest --selectProjects integration --ci --runInBand
