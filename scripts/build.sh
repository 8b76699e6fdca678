#!/usr/bin/env bash
# Builds the gateway's Lua (TypeScriptToLua, clean) and every TypeScript project (tsc -b).
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
step "Building the gateway Lua (TypeScriptToLua)"
npm run --silent build --workspace gateway-lua
step "Building the TypeScript projects (tsc -b)"
npx tsc -b
