/**
 * init_worker_by_lua: each worker starts from the configs the workers before it synced (after
 * a reload), then syncs now and every SYNC_INTERVAL_SEC; likewise the identity provider's key set.
 *
 * Set only by bench/gateway-jit.ts: with FS_JIT_LOG each worker writes LuaJIT's trace log (jit.v:
 * traces compiled and aborted, with the reason) to FS_JIT_LOG.<pid>; with FS_JIT_PROFILE, when it
 * stops, its profile (jit.p: samples by VM state, interpreted or compiled, then by function) to
 * FS_JIT_PROFILE.<pid>. Apart: the profiler's hook itself aborts traces.
 */
import { restoreSnapshot, syncSales } from "../adapters/sale_cache";
import { restoreKeySet, syncKeySet, SYNC_INTERVAL_SEC as KEY_SET_SYNC_INTERVAL_SEC } from "../adapters/key_set";

/** Gateways must apply a new config within one second of its publish. */
const SYNC_INTERVAL_SEC = 0.25;

function startJitProfile(file: string): void {
  const profiler = require("jit.p") as typeof import("jit.p");
  // VM states, then functions with their module; samples every millisecond, shown from 1 %.
  profiler.start("vFi1m1", file);
  // A timer's premature run is the worker's exit: the profile is written then.
  ngx.timer.at(365 * 86400, (premature) => {
    if (premature) profiler.stop();
  });
}

export function initWorker(this: void): void {
  const pid = "." + string.format("%d", ngx.worker.pid());
  const jitLog = os.getenv("FS_JIT_LOG");
  if (jitLog !== undefined && jitLog !== "") (require("jit.v") as typeof import("jit.v")).on(jitLog + pid);
  const jitProfile = os.getenv("FS_JIT_PROFILE");
  if (jitProfile !== undefined && jitProfile !== "") startJitProfile(jitProfile + pid);
  restoreSnapshot();
  ngx.timer.at(0, syncSales);
  const [ok, err] = ngx.timer.every(SYNC_INTERVAL_SEC, syncSales);
  if (!ok) ngx.log(ngx.ERR, "cannot start the sale config sync timer: ", tostring(err));
  restoreKeySet();
  ngx.timer.at(0, syncKeySet);
  const [keysOk, keysErr] = ngx.timer.every(KEY_SET_SYNC_INTERVAL_SEC, syncKeySet);
  if (!keysOk) ngx.log(ngx.ERR, "cannot start the key set sync timer: ", tostring(keysErr));
}
