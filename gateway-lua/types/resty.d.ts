/** The resty libraries the gateway uses (lua-resty-redis, lua-resty-core's ngx.base64, lua-resty-string, cjson). */

/** A lua-resty-redis connection; its methods are colon-called. Only these commands are typed, on purpose. */
interface RestyRedis {
  /** One timeout for what follows (connect, send, read); lua-resty-redis 0.27 has no set_timeouts. */
  set_timeout(ms: number): void;
  connect(host: string, port: number, options?: { pool?: string; pool_size?: number; backlog?: number }): LuaMultiReturn<[number | undefined, string | undefined]>;
  set_keepalive(maxIdleMs: number, poolSize: number): LuaMultiReturn<[number | undefined, string | undefined]>;
  get_reused_times(): LuaMultiReturn<[number | undefined, string | undefined]>;
  close(): void;
  auth(password: string): LuaMultiReturn<[unknown, string | undefined]>;
  select(db: number): LuaMultiReturn<[unknown, string | undefined]>;
  incr(key: string): LuaMultiReturn<[number | undefined, string | undefined]>;
  info(section: string): LuaMultiReturn<[string | undefined | false, string | undefined]>;
  get(key: string): LuaMultiReturn<[string | NgxNull | undefined | false, string | undefined]>;
  mget(...keys: string[]): LuaMultiReturn<[(string | NgxNull)[] | undefined | false, string | undefined]>;
  hget(key: string, field: string): LuaMultiReturn<[string | NgxNull | undefined | false, string | undefined]>;
  hgetall(key: string): LuaMultiReturn<[string[] | undefined | false, string | undefined]>;
  hmget(key: string, ...fields: string[]): LuaMultiReturn<[(string | NgxNull)[] | undefined | false, string | undefined]>;
  evalsha(sha: string, numKeys: number, ...keysAndArgs: (string | number)[]): LuaMultiReturn<[unknown, string | undefined]>;
  eval(script: string, numKeys: number, ...keysAndArgs: (string | number)[]): LuaMultiReturn<[unknown, string | undefined]>;
  /** Redis Cluster: the next command may touch a slot this node is importing (an ASK redirect). */
  asking(): LuaMultiReturn<[unknown, string | undefined]>;
  cluster(subcommand: "slots"): LuaMultiReturn<[unknown[] | undefined | false, string | undefined]>;
  /** Replicas that acknowledged this connection's writes, waiting at most timeoutMs. */
  wait(replicas: number, timeoutMs: number): LuaMultiReturn<[number | undefined | false, string | undefined]>;
  /** Redis' clock: [seconds, microseconds], as strings. */
  time(): LuaMultiReturn<[string[] | undefined | false, string | undefined]>;
  init_pipeline(n?: number): void;
  commit_pipeline(): LuaMultiReturn<[unknown[] | undefined, string | undefined]>;
}

/** @noResolution */
declare module "resty.redis" {
  function _new(this: void): LuaMultiReturn<[RestyRedis | undefined, string | undefined]>;
  export { _new as new };
}

/** @noResolution */
declare module "ngx.base64" {
  export function decode_base64url(this: void, s: string): string | undefined;
  export function encode_base64url(this: void, s: string): string;
}

/** A lua-resty-string SHA-256 digest object. */
interface RestySha256 {
  update(s: string): boolean;
  final(): string;
  reset(): boolean;
}

/** @noResolution */
declare module "resty.sha256" {
  function _new(this: void): RestySha256 | undefined;
  export { _new as new };
}

/** @noResolution */
declare module "resty.string" {
  export function to_hex(this: void, s: string): string;
}

/** @noResolution */
declare module "cjson.safe" {
  export function decode(this: void, s: string): LuaMultiReturn<[unknown, string | undefined]>;
  export function encode(this: void, v: unknown): string | undefined;
  export function decode_invalid_numbers(this: void, on: boolean): void;
  export function decode_max_depth(this: void, depth: number): void;
}

/** @noResolution */
declare module "resty.random" {
  /** `len` random bytes; with `strong`, undefined when the generator lacks entropy. */
  export function bytes(this: void, len: number, strong?: boolean): string | undefined;
}
