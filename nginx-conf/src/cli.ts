#!/usr/bin/env node
/**
 * Usage: node nginx-conf/build/cli.js --prefix DIR --listen PORT [--bench-listen ADDR]
 *          [--flavor local|openresty] [--out DIR] [--lua-dir DIR] [--static-dir DIR]
 * --out writes the files elsewhere than the prefix (a container's prefix, mounted from --out).
 */
import { parseArgs } from "node:util";
import path from "node:path";
import { renderInto, type Flavor } from "./render";

const { values } = parseArgs({
  options: {
    prefix: { type: "string" },
    out: { type: "string" },
    listen: { type: "string" },
    "bench-listen": { type: "string" },
    flavor: { type: "string", default: "local" },
    "lua-dir": { type: "string" },
    "static-dir": { type: "string" },
  },
});
if (values.prefix === undefined || values.listen === undefined) {
  console.error("usage: cli.js --prefix DIR --listen PORT [--bench-listen ADDR] [--flavor local|openresty]");
  process.exit(2);
}
if (values.flavor !== "local" && values.flavor !== "openresty") {
  console.error(`--flavor must be local or openresty, got ${values.flavor}`);
  process.exit(2);
}
const confPath = renderInto({
  prefix: path.resolve(values.prefix),
  outDir: values.out !== undefined ? path.resolve(values.out) : undefined,
  listen: values.listen,
  benchListen: values["bench-listen"],
  flavor: values.flavor as Flavor,
  luaDir: values["lua-dir"],
  staticDir: values["static-dir"],
});
console.log(confPath);
