/** Units a shopper holds in a sale: one HGET of its buyers hash (what the purchase script checks the limit against). */
import type { CachedSale } from "./sale_cache";
import { discardRedis, openRedis, releaseRedis } from "./redis_connection";

/** The units, or an error string when Redis failed. */
export function unitsHeld(c: CachedSale, userId: string): number | string {
  const [red, connectErr] = openRedis();
  if (red === undefined) return connectErr ?? "connect failed";
  const [value, err] = red.hget(c.buyersKey, userId);
  if (value === undefined || value === false) {
    discardRedis(red);
    return "HGET buyers: " + tostring(err);
  }
  releaseRedis(red);
  return value === ngx.null ? 0 : (tonumber(value) ?? 0);
}
