/** LuaJIT's FFI as the gateway uses it (adapters/libcrypto.ts), and the Redis command the key set's sync adds. */

/** A C value: a pointer, an array or a struct; opaque to TS. */
interface FfiCData {
  readonly __cdata: unique symbol;
}

/** @noResolution */
declare module "ffi" {
  export function cdef(this: void, defs: string): void;
  export const C: unknown;
  export function load(this: void, name: string): unknown;
  function _new(this: void, ctype: string): FfiCData;
  export { _new as new };
  export function cast(this: void, ctype: string, value: unknown): FfiCData;
  export function gc(this: void, cdata: FfiCData, finalizer: unknown): FfiCData;
}

interface RestyRedis {
  /** SET with a time to live in seconds. */
  set(key: string, value: string, ex: "EX", seconds: number): LuaMultiReturn<[string | undefined | false, string | undefined]>;
}
