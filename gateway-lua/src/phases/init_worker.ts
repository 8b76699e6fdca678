/**
 * init_worker_by_lua: each worker starts from the configs the workers before it synced (after
 * a reload), then syncs now and every SYNC_INTERVAL_SEC.
 */
import { restoreSnapshot, syncSales } from "../adapters/sale_cache";

/** Gateways must apply a new config within one second of its publish. */
const SYNC_INTERVAL_SEC = 0.25;

export function initWorker(this: void): void {
  restoreSnapshot();
  ngx.timer.at(0, syncSales);
  const [ok, err] = ngx.timer.every(SYNC_INTERVAL_SEC, syncSales);
  if (!ok) ngx.log(ngx.ERR, "cannot start the sale config sync timer: ", tostring(err));
}
