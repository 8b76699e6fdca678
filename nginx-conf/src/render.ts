/**
 * Renders nginx.conf and errors.conf for one gateway from nginx.conf.template and the knobs.
 * The same source serves the local stack (Debian nginx + Lua module) and the OpenResty image.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ERROR_CATALOGUE, type ErrorCode } from "@flash-sale/gateway-lua/core/errors";
import { readKnobs, type Knobs } from "./knobs";

export const NGINX_CONF_DIR = path.resolve(__dirname, "..");
const REPO_ROOT = path.resolve(NGINX_CONF_DIR, "..");

export type Flavor = "local" | "openresty";

export interface RenderOptions {
  /** nginx prefix: the rendered files, pid, logs and temp files go here. */
  prefix: string;
  /** Where to write the files when the prefix is a path inside a container; default: the prefix. */
  outDir?: string;
  /** `listen` of the public server, e.g. `8080` or `127.0.0.1:8080`. */
  listen: string;
  /** `listen` of the internal benchmark-ceiling server; none when absent. */
  benchListen?: string;
  flavor?: Flavor;
  luaDir?: string;
  staticDir?: string;
  knobs?: Knobs;
}

/** nginx's own errors (limit_req, body size, unknown routes, Lua failures) in catalogue form. */
const NGINX_ERRORS: { status: number; code: ErrorCode; retryAfter?: number }[] = [
  { status: 400, code: "bad_request" },
  { status: 404, code: "not_found" },
  { status: 405, code: "method_not_allowed" },
  { status: 413, code: "payload_too_large" },
  { status: 429, code: "rate_limited", retryAfter: 1 },
  { status: 500, code: "internal_error" },
  { status: 502, code: "unavailable" },
  { status: 503, code: "unavailable" },
  { status: 504, code: "unavailable" },
];

const LUA_ALIASES = ["redis", "sha256", "string", "random"];

function renderErrors(): string {
  return NGINX_ERRORS.map(({ status, code, retryAfter }) => {
    const entry = ERROR_CATALOGUE[code];
    const body: Record<string, unknown> = { error: code, message: entry.message };
    if (retryAfter !== undefined) body.retryAfter = retryAfter;
    const json = JSON.stringify(body).replace(/\\/g, "\\\\").replace(/'/g, "\\'");
    const location = `@fs_error_${status}`;
    return [
      `error_page ${status} =${entry.status} ${location};`,
      `location ${location} {`,
      `    default_type application/json;`,
      `    add_header Cache-Control no-store always;`,
      ...(retryAfter !== undefined ? [`    add_header Retry-After ${retryAfter} always;`] : []),
      `    return ${entry.status} '${json}';`,
      `}`,
    ].join("\n");
  }).join("\n");
}

function benchServer(listen: string): string {
  return `
    # Benchmark ceilings (make bench): the same nginx, workers and Redis pool as the gateway.
    server {
        listen ${listen} reuseport;
        access_log off;
        location = /ceiling/return-200 { return 200 'ok'; }
        location = /ceiling/redis-incr {
            content_by_lua_block { require("handlers.bench_ceiling").handleRedisIncr() }
        }
    }`;
}

export function renderNginxConf(template: string, opts: RenderOptions): string {
  const flavor = opts.flavor ?? "local";
  const knobs = opts.knobs ?? readKnobs(path.join(NGINX_CONF_DIR, "knobs.conf"));
  const values: Record<string, string> = {
    ...knobs,
    prefix: opts.prefix,
    listen: opts.listen,
    lua_dir: opts.luaDir ?? path.join(REPO_ROOT, "gateway-lua/build/lua"),
    static_dir: opts.staticDir ?? path.join(REPO_ROOT, "static"),
    load_modules:
      flavor === "local"
        ? "load_module /usr/lib/nginx/modules/ndk_http_module.so;\nload_module /usr/lib/nginx/modules/ngx_http_lua_module.so;"
        : "",
    mime_types: flavor === "local" ? "/etc/nginx/mime.types" : "/usr/local/openresty/nginx/conf/mime.types",
    // Debian installs lua-resty-redis and lua-resty-string as nginx.*; OpenResty as resty.*.
    lua_module_aliases:
      flavor === "local"
        ? LUA_ALIASES.map(
            (m) =>
              `        if not package.searchpath("resty.${m}", package.path) then package.preload["resty.${m}"] = function() return require("nginx.${m}") end end`,
          ).join("\n")
        : "",
    set_real_ip_from: (knobs.trusted_proxies ?? "")
      .split(/\s+/)
      .filter((cidr) => cidr !== "")
      .map((cidr) => `    set_real_ip_from ${cidr};`)
      .join("\n"),
    access_log:
      knobs.access_log === "off" ? "access_log off;" : `access_log ${opts.prefix}/logs/access.log combined buffer=64k flush=1s;`,
    bench_server: opts.benchListen !== undefined ? benchServer(opts.benchListen) : "",
  };
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`nginx.conf.template uses {{${name}}}, which no knob or option defines`);
    return value;
  });
}

/** Writes nginx.conf and errors.conf into the prefix (or outDir) and creates its logs/ and tmp/. */
export function renderInto(opts: RenderOptions): string {
  const template = readFileSync(path.join(NGINX_CONF_DIR, "nginx.conf.template"), "utf8");
  const out = opts.outDir ?? opts.prefix;
  for (const dir of ["logs", "tmp"]) mkdirSync(path.join(out, dir), { recursive: true });
  const confPath = path.join(out, "nginx.conf");
  writeFileSync(path.join(out, "errors.conf"), renderErrors() + "\n");
  writeFileSync(confPath, renderNginxConf(template, opts));
  return confPath;
}
