/** The gateway's shared dicts, declared in nginx.conf (sizes are SRE knobs in knobs.conf). */

function dict(name: string): NgxSharedDict {
  const d = ngx.shared[name];
  if (d === undefined) error("lua_shared_dict " + name + " is not declared in nginx.conf", 0);
  return d;
}

/** Sold-out flags: set by any worker, read by all. */
export const FLAGS_DICT = "fs_flags";
/** Per-user GCRA state and per-sale admission counters. */
export const LIMITS_DICT = "fs_limits";
/** Metrics counters (see core/metrics.ts). */
export const METRICS_DICT = "fs_metrics";
/** Waiting rooms' state, synced from Redis (adapters/waiting_room.ts). */
export const QUEUE_DICT = "fs_queue";
/** Every dict of the gateway, for the fill gauges. */
export const ALL_DICTS = [FLAGS_DICT, LIMITS_DICT, METRICS_DICT, QUEUE_DICT];

export function flagsDict(): NgxSharedDict {
  return dict(FLAGS_DICT);
}

export function limitsDict(): NgxSharedDict {
  return dict(LIMITS_DICT);
}

export function metricsDict(): NgxSharedDict {
  return dict(METRICS_DICT);
}

export function queueDict(): NgxSharedDict {
  return dict(QUEUE_DICT);
}

/** A declared dict by name (for the fill gauges). */
export function sharedDict(name: string): NgxSharedDict {
  return dict(name);
}
