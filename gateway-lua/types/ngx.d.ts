/** The parts of the lua-nginx-module API the gateway uses, hand-written: docs/gateway-typings.md says why not openresty-lua-types. */

/** A Redis nil reply and cjson's null: truthy in Lua, so compare with `=== ngx.null`. */
declare const NgxNullBrand: unique symbol;
type NgxNull = { readonly [NgxNullBrand]: true };

/** @noSelf */
interface NgxReq {
  get_headers(max?: number, raw?: boolean): { [name: string]: string | string[] | undefined };
  read_body(): void;
  get_body_data(): string | undefined;
  get_body_file(): string | undefined;
  get_method(): string;
  /** When the request's first byte arrived, epoch seconds (millisecond resolution). */
  start_time(): number;
}

/** @noSelf */
interface NgxResp {
  get_headers(): { [name: string]: string | string[] | undefined };
}

/** A shared dict (lua_shared_dict); its methods are colon-called. */
interface NgxSharedDict {
  get(key: string): LuaMultiReturn<[number | string | boolean | undefined, number | undefined]>;
  set(key: string, value: number | string | boolean, exptime?: number): LuaMultiReturn<[boolean, string | undefined, boolean]>;
  add(key: string, value: number | string | boolean, exptime?: number): LuaMultiReturn<[boolean, string | undefined, boolean]>;
  incr(key: string, value: number, init?: number, initTtl?: number): LuaMultiReturn<[number | undefined, string | undefined, boolean]>;
  delete(key: string): void;
  /** Up to max keys (0: all); locks the dict while it runs. */
  get_keys(max?: number): string[];
  free_space(): number;
  capacity(): number;
}

/** @noSelf */
interface NgxTimer {
  at(delay: number, callback: (this: void, premature: boolean) => void): LuaMultiReturn<[boolean | undefined, string | undefined]>;
  every(delay: number, callback: (this: void, premature: boolean) => void): LuaMultiReturn<[boolean | undefined, string | undefined]>;
}

/** @noSelf */
interface NgxWorker {
  id(): number;
  pid(): number;
  exiting(): boolean;
}

/** @noSelf */
interface NgxApi {
  readonly null: NgxNull;
  readonly ERR: number;
  readonly WARN: number;
  readonly NOTICE: number;
  readonly INFO: number;
  readonly HTTP_OK: number;
  status: number;
  header: { [name: string]: string | number | undefined };
  readonly var: { [name: string]: string | undefined };
  readonly shared: { [name: string]: NgxSharedDict | undefined };
  readonly req: NgxReq;
  readonly resp: NgxResp;
  readonly timer: NgxTimer;
  readonly worker: NgxWorker;
  now(): number;
  update_time(): void;
  time(): number;
  say(...parts: string[]): void;
  print(...parts: string[]): void;
  exit(status: number): never;
  log(level: number, ...parts: (string | number)[]): void;
  sleep(seconds: number): void;
  sha1_bin(s: string): string;
  encode_base64(s: string, noPadding?: boolean): string;
  decode_base64(s: string): string | undefined;
  hmac_sha1(key: string, s: string): string;
}

declare const ngx: NgxApi;
