/** Units a shopper holds in a sale: one HGET of its buyers hash (what the purchase script checks the limit against; the shopper's stock bucket's). */
import { shopperBucket, type CachedBucket, type CachedSale } from "./sale_cache";
import { callSlot } from "./redis_connection";

function readUnits(this: void, red: RestyRedis, _runId: string, _asking: boolean, p: { bucket: CachedBucket; userId: string }): LuaMultiReturn<[unknown, string | undefined]> {
  return red.hget(p.bucket.keys.buyers, p.userId);
}

/** The units, or an error string when Redis failed. */
export function unitsHeld(c: CachedSale, userId: string): number | string {
  const bucket = shopperBucket(c, userId);
  const [value, err] = callSlot(bucket.slot, readUnits, { bucket, userId });
  if (value === undefined || value === false) return "HGET buyers: " + tostring(err);
  return value === ngx.null ? 0 : (tonumber(value as string) ?? 0);
}
