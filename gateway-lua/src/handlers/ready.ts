/**
 * GET /ready on the internal metrics listener: 200 once this worker has synced the sale configs
 * (from Redis, or from the snapshot a previous worker left), 503 before. An orchestrator sends
 * shoppers only to a ready gateway: a fresh one would answer 404 for every live sale. Redis
 * down later keeps it ready: the last known configs stay in force and purchases fail closed.
 */
import { configsKnown } from "../adapters/sale_cache";

export function handleReady(this: void): void {
  const ready = configsKnown();
  ngx.status = ready ? 200 : 503;
  ngx.header["Content-Type"] = "application/json";
  ngx.header["Cache-Control"] = "no-store";
  ngx.print(ready ? '{"ready":true}' : '{"ready":false,"message":"the sale configs are not loaded yet"}');
}
