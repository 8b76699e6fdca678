/** LuaJIT's own library modules the gateway loads (shipped with libluajit2, found by the default package.path). */

/** @noResolution */
declare module "jit.v" {
  /** Writes a line per trace compiled or aborted (with the reason) to `file`. */
  export function on(this: void, file: string): void;
}

/** @noResolution */
declare module "jit.p" {
  /** Starts the sampling profiler; `mode` as in jit/p.lua's header. */
  export function start(this: void, mode: string, file: string): void;
  /** Stops it and writes its report. */
  export function stop(this: void): void;
}
