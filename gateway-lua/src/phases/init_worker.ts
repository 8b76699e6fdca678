/** init_worker_by_lua: each worker syncs sale configs now and then every SYNC_INTERVAL_SEC. */
import { syncSales } from "../adapters/sale_cache";

/** Gateways must apply a new config within one second of its publish. */
const SYNC_INTERVAL_SEC = 0.25;

export function initWorker(this: void): void {
  ngx.timer.at(0, syncSales);
  const [ok, err] = ngx.timer.every(SYNC_INTERVAL_SEC, syncSales);
  if (!ok) ngx.log(ngx.ERR, "cannot start the sale config sync timer: ", tostring(err));
}
