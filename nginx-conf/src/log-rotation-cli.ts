#!/usr/bin/env node
/**
 * Usage: node nginx-conf/build/log-rotation-cli.js --prefix DIR
 * Rotates the logs of the gateway running from DIR by size (log-rotation.ts) until it stops.
 * Knobs from nginx-conf/knobs.conf and FS_NGINX_<NAME> overrides, read once at start.
 */
import { parseArgs } from "node:util";
import path from "node:path";
import { readKnobs } from "./knobs";
import { rotationPolicy, watchLogs } from "./log-rotation";

const { values } = parseArgs({ options: { prefix: { type: "string" } } });
if (values.prefix === undefined) {
  console.error("usage: log-rotation-cli.js --prefix DIR");
  process.exit(2);
}
const prefix = path.resolve(values.prefix);
const policy = rotationPolicy(readKnobs());
const say = (line: string) => console.log(`${new Date().toISOString()} log rotation: ${line}`);
say(`watching ${prefix}/logs: rotate at ${policy.sizeBytes} bytes, keep ${policy.keep} of each, check every ${policy.checkMs} ms`);
void watchLogs(prefix, policy, say);
