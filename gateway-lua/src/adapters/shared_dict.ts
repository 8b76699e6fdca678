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

export function flagsDict(): NgxSharedDict {
  return dict(FLAGS_DICT);
}

export function limitsDict(): NgxSharedDict {
  return dict(LIMITS_DICT);
}
