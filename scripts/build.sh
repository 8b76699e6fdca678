#!/usr/bin/env bash
# Builds the gateway's Lua (TypeScriptToLua, clean), every TypeScript project (tsc -b) and the
# shopper pages (static/build/public) and the admin UI's bundle (control-plane/build/ui).
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
step "Building the gateway Lua (TypeScriptToLua)"
npm run --silent build --workspace gateway-lua
step "Building the TypeScript projects (tsc -b)"
npx tsc -b
step "Publishing the shopper pages (static/build/public, content-hashed assets)"
node static/build/tools/publish.js
step "Bundling the admin UI (esbuild: control-plane/build/ui)"
npm run --silent build:ui --workspace control-plane
