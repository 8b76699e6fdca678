/**
 * This gateway's place in the fleet: each worker checks in about once a second
 * (redis-scripts/fleet/register-gateway.lua, piggybacked on the config sync's connection) and keeps
 * the number of live gateways, so that a sale's admitPerSecond is the whole fleet's: each
 * gateway admits its share. While Redis is unreachable the last count stays in force.
 *
 * Known race: for up to one liveness period after a gateway joins or dies, the others still
 * divide by the old count (the fleet admits a little more, or less, than the setting).
 */
import { GATEWAY_LIVENESS_MS, GATEWAY_METRICS_URLS_KEY, GATEWAYS_KEY } from "@flash-sale/contract/keys";
import { settings } from "../settings";
import { REGISTER_GATEWAY } from "@flash-sale/contract/scripts/fleet";
import { loadScript, runScript, type LoadedScript } from "./redis_scripts";

const CHECK_IN_INTERVAL_MS = 1000;

let script: LoadedScript<typeof REGISTER_GATEWAY> | undefined;
const KEYS = { gateways: GATEWAYS_KEY, metricsUrls: GATEWAY_METRICS_URLS_KEY };
let live = 1;
let lastCheckInMs = 0;

export function loadRegistryScript(): void {
  script = loadScript(REGISTER_GATEWAY);
}

/** Gateways live in the fleet, this one included (1 until the first check-in). */
export function liveGateways(): number {
  return live;
}

/**
 * Checks in when a second has passed since the last time, on the connection to the node of
 * {fs:config}; Redis' error as it gave it (a redirect is followed by the caller), or undefined.
 */
export function checkIn(red: RestyRedis, nowMs: number): string | undefined {
  if (nowMs - lastCheckInMs < CHECK_IN_INTERVAL_MS) return undefined;
  const s = settings();
  const [res, err] = runScript(red, script as NonNullable<typeof script>, KEYS, { gatewayId: s.gatewayId, metricsUrl: s.metricsUrl, livenessMs: GATEWAY_LIVENESS_MS }, false);
  const count = REGISTER_GATEWAY.decode(res);
  if (count === undefined) return tostring(err);
  live = math.max(1, count);
  lastCheckInMs = nowMs;
  return undefined;
}
