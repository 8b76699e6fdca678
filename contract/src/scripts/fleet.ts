/** The gateways' fleet (contract/redis-scripts/fleet/). */
import { declareScript } from "./script";

/** A gateway checks in: answers the number of live gateways, this one included. */
export const REGISTER_GATEWAY = declareScript({
  file: "fleet/register-gateway",
  keys: ["gateways", "metricsUrls"],
  args: ["gatewayId", "metricsUrl", "livenessMs"],
  codes: {},
  decode: (reply: unknown): number | undefined => (typeof reply === "number" ? reply : undefined),
});
