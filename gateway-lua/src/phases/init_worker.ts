/**
 * init_worker_by_lua: each worker starts from the configs the workers before it synced (after
 * a reload), then syncs now and every SYNC_INTERVAL_SEC; likewise the identity provider's key set.
 */
import { restoreSnapshot, syncSales } from "../adapters/sale_cache";
import { restoreKeySet, syncKeySet, SYNC_INTERVAL_SEC as KEY_SET_SYNC_INTERVAL_SEC } from "../adapters/key_set";

/** Gateways must apply a new config within one second of its publish. */
const SYNC_INTERVAL_SEC = 0.25;

export function initWorker(this: void): void {
  restoreSnapshot();
  ngx.timer.at(0, syncSales);
  const [ok, err] = ngx.timer.every(SYNC_INTERVAL_SEC, syncSales);
  if (!ok) ngx.log(ngx.ERR, "cannot start the sale config sync timer: ", tostring(err));
  restoreKeySet();
  ngx.timer.at(0, syncKeySet);
  const [keysOk, keysErr] = ngx.timer.every(KEY_SET_SYNC_INTERVAL_SEC, syncKeySet);
  if (!keysOk) ngx.log(ngx.ERR, "cannot start the key set sync timer: ", tostring(keysErr));
}
