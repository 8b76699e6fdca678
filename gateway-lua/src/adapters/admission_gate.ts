/**
 * Per-sale admission gate: at most `perSecond` purchase attempts per second reach Redis from
 * this gateway (a fixed one-second window counted in a shared dict, shared by all workers).
 * The caller passes this gateway's share of the sale's fleet-wide admitPerSecond.
 */
import { limitsDict } from "./shared_dict";

/** True when the attempt may go on to Redis; counts it. */
export function admit(saleId: string, nowMs: number, perSecond: number): boolean {
  const second = math.floor(nowMs / 1000);
  const [count, err] = limitsDict().incr("a:" + saleId + ":" + second, 1, 0, 2);
  if (count === undefined) {
    ngx.log(ngx.WARN, "admission gate: cannot count: ", tostring(err));
    return true;
  }
  return count <= perSecond;
}
