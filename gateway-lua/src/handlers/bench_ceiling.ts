/**
 * The benchmark's second ceiling: one Redis round trip (INCR) through the same connection
 * pool as a purchase. Served only on the internal bench listener (see make bench).
 */
import { BENCH_CEILING_KEY } from "../core/keys";
import { discardRedis, openRedis, releaseRedis } from "../adapters/redis_connection";
import { sendError, sendJson } from "../http/respond";

export function handleRedisIncr(this: void): void {
  const [red] = openRedis();
  if (red === undefined) return sendError("unavailable");
  const [n] = red.incr(BENCH_CEILING_KEY);
  if (n === undefined) {
    discardRedis(red);
    return sendError("unavailable");
  }
  releaseRedis(red);
  sendJson(200, '{"n":' + string.format("%d", n) + "}");
}
