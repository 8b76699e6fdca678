/**
 * The benchmark's second ceiling: one Redis round trip (INCR) through the same connection
 * pool as a purchase. Served only on the internal bench listener (see make bench).
 */
import { keySlot } from "@flash-sale/contract/cluster";
import { BENCH_CEILING_KEY } from "@flash-sale/contract/keys";
import { callSlot } from "../adapters/redis_connection";
import { sendError, sendJson } from "../http/respond";

const BENCH_SLOT = keySlot(BENCH_CEILING_KEY);

function incr(this: void, red: RestyRedis): LuaMultiReturn<[unknown, string | undefined]> {
  return red.incr(BENCH_CEILING_KEY);
}

export function handleRedisIncr(this: void): void {
  const [n] = callSlot(BENCH_SLOT, incr, undefined);
  if (typeof n !== "number") return sendError("unavailable");
  sendJson(200, '{"n":' + string.format("%d", n) + "}");
}
