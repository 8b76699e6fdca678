/**
 * Renders nginx.conf and errors.conf for one gateway from nginx.conf.template and the knobs.
 * The same source serves the local stack (Debian nginx + Lua module) and the OpenResty image.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ERROR_CATALOGUE, type ErrorCode } from "@flash-sale/contract/errors";
import { ORDER_ID_PATTERN, SALE_ID_PATTERN } from "@flash-sale/contract/ids";
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

/**
 * nginx's own errors (limit_req, body size, unknown routes, Lua failures, requests it cannot
 * parse) in catalogue form. 494 is nginx's name for oversized headers: answered as 431.
 * `unparsed`: the error can come before nginx has a usable URI (see renderErrors).
 */
const NGINX_ERRORS: { status: number; code: ErrorCode; retryAfter?: number; outcome?: string; unparsed?: boolean; header?: string }[] = [
  { status: 400, code: "bad_request", unparsed: true },
  { status: 404, code: "not_found" },
  // The methods the URI takes (nginx.conf.template: $fs_allow).
  { status: 405, code: "method_not_allowed", header: "Allow $fs_allow" },
  { status: 413, code: "payload_too_large" },
  { status: 414, code: "uri_too_long", unparsed: true },
  // limit_req / limit_conn per client IP: told apart from the gateway's own limiters.
  { status: 429, code: "rate_limited", retryAfter: 1, outcome: "ip_limited" },
  { status: 494, code: "headers_too_large", unparsed: true },
  { status: 500, code: "internal_error" },
  { status: 501, code: "not_implemented", unparsed: true },
  { status: 502, code: "unavailable" },
  { status: 503, code: "unavailable" },
  { status: 504, code: "unavailable" },
  { status: 505, code: "http_version_not_supported", unparsed: true },
];

/** Where the errors that can come before a usable URI have their pages (see renderErrors). */
const ERROR_PAGE_PREFIX = "/.fs-errors/";

const LUA_ALIASES = ["redis", "sha256", "string", "random"];

/** The Lua lines that make Debian's nginx.* modules loadable as resty.* (OpenResty's names). */
export function luaModuleAliases(indent = ""): string {
  return LUA_ALIASES.map(
    (m) => `${indent}if not package.searchpath("resty.${m}", package.path) then package.preload["resty.${m}"] = function() return require("nginx.${m}") end end`,
  ).join("\n");
}

/**
 * A request whose line nginx cannot parse has no usable URI: an error_page to a named location
 * then fails with nginx's own 500 page, while a redirect to an internal URI replaces the URI
 * and works. Named locations stay for the other errors: an internal URI runs the server's
 * rewrite phase again, which would reset the request's $fs_route.
 */
function renderErrors(): string {
  return NGINX_ERRORS.map(({ status, code, retryAfter: own, outcome, unparsed, header }) => {
    const entry = ERROR_CATALOGUE[code];
    const retryAfter = own ?? entry.retryAfterSeconds;
    const body: Record<string, unknown> = { error: code, message: entry.message };
    if (retryAfter !== undefined) body.retryAfter = retryAfter;
    const json = JSON.stringify(body).replace(/\\/g, "\\\\").replace(/'/g, "\\'");
    const location = unparsed === true ? `${ERROR_PAGE_PREFIX}${status}` : `@fs_error_${status}`;
    return [
      `error_page ${status} =${entry.status} ${location};`,
      ...(unparsed === true ? [`location = ${location} {`, `    internal;`] : [`location ${location} {`]),
      `    set $fs_outcome ${outcome ?? code};`,
      // No types: the content type would otherwise follow the URI's extension (a page's .html).
      `    types { }`,
      `    default_type application/json;`,
      `    add_header Cache-Control no-store always;`,
      `    add_header X-Content-Type-Options nosniff always;`,
      ...(retryAfter !== undefined ? [`    add_header Retry-After ${retryAfter} always;`] : []),
      ...(header !== undefined ? [`    add_header ${header} always;`] : []),
      `    return ${entry.status} '${json}';`,
      `}`,
    ].join("\n");
  }).join("\n");
}

/** The development login's route (see gateway-lua/src/handlers/dev_login.ts), only with dev_login = on. */
function devLoginLocation(knob: string | undefined): string {
  if (knob === "off" || knob === undefined) return "# dev_login = off: no development login route.";
  if (knob !== "on") throw new Error(`knob dev_login must be on or off, got '${knob}'`);
  return `# dev_login = on: DEVELOPMENT ONLY, anyone may sign in as anyone.
location = /api/dev/login {
    if ($request_method != POST) { return 405; }
    limit_req zone=fs_per_ip burst=10 nodelay;
    content_by_lua_block { require("handlers.dev_login").handleDevLogin() }
}`;
}

/** The shop's login URL, written quoted into an `env` directive: no quotes, backslashes or spaces. */
function shopLoginUrl(knob: string | undefined): string {
  if (knob === undefined || !/^(https?:\/\/|\/)[^\s"\\]*$/.test(knob)) {
    throw new Error(`knob shop_login_url must be an http(s) URL or a path without spaces or quotes, got '${knob}'`);
  }
  return knob;
}

/**
 * One JSON object per request (escape=json). request_id is the id the purchase script writes
 * into the order's stream entry and the worker into orders.request_id; peer is the TCP peer
 * when a trusted proxy set the client address.
 */
const ACCESS_LOG_FORMAT = [
  `'{"time":"$time_iso8601","request_id":"$request_id","client":"$remote_addr","peer":"$realip_remote_addr",'`,
  `'"method":"$request_method","uri":"$request_uri","status":$status,"bytes":$body_bytes_sent,'`,
  `'"request_time":$request_time,"route":"$fs_route","sale":"$fs_sale_id","outcome":"$fs_outcome",'`,
  `'"user_agent":"$http_user_agent"}'`,
].join("\n        ");

/** A knob that is a share in percent, 0-100. */
function percentKnob(name: string, value: string | undefined): number {
  const percent = Number(value);
  if (value === undefined || !Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new Error(`knob ${name} must be a whole number from 0 to 100, got '${value}'`);
  }
  return percent;
}

/**
 * `1` (keep all), `0` (none), or a split_clients variable keeping `percent` of the requests. It
 * hashes the connection's serial number and the request's number on it, which are distinct per
 * request and cost nothing to read; hashing $request_id would make nginx generate an id for
 * every refusal, also for the nine in ten it does not log.
 */
function sampler(variable: string, percent: number, lines: string[]): string {
  if (percent === 100) return "1";
  if (percent === 0) return "0";
  lines.push(`    split_clients "$connection.$connection_requests" ${variable} { ${percent}% 1; * 0; }`);
  return variable;
}

/**
 * Answers below 400 to writes (purchases, joins, payments) always reach the access log; reads
 * (GET, HEAD: a sale, the time, the pages, orders) as the share access_log_reads_percent says,
 * waiting-room polls (GET of the queue: every waiting shopper, every few seconds) as
 * access_log_polls_percent says; refusals as the share access_log_refusals_percent keeps, so a
 * rush of refusals, a client polling a sale or a crowd in the queue does not fill the disk. The
 * maps are nested so that a request reads only $status and the sample it needs: nginx evaluates
 * a map when its variable is first read.
 */
function accessLog(knobs: Knobs, prefix: string): string {
  if (knobs.access_log === "off") return "access_log off;";
  if (knobs.access_log !== "on") throw new Error(`knob access_log must be on or off, got '${knobs.access_log}'`);
  const samplers: string[] = [];
  const refusals = sampler("$fs_refusal_sampled", percentKnob("access_log_refusals_percent", knobs.access_log_refusals_percent), samplers);
  const polls = sampler("$fs_poll_sampled", percentKnob("access_log_polls_percent", knobs.access_log_polls_percent), samplers);
  const reads = sampler("$fs_read_sampled", percentKnob("access_log_reads_percent", knobs.access_log_reads_percent), samplers);
  return [
    `log_format fs_json escape=json\n        ${ACCESS_LOG_FORMAT};`,
    ...samplers,
    `    map $request_method $fs_queue_answer_logged { GET ${polls}; default 1; }`,
    `    map $request_method $fs_read_answer_logged { GET ${reads}; HEAD ${reads}; default 1; }`,
    `    map $fs_route $fs_answer_logged { queue $fs_queue_answer_logged; default $fs_read_answer_logged; }`,
    `    map $status $fs_access_logged { ~^[123] $fs_answer_logged; default ${refusals}; }`,
    `    access_log ${prefix}/logs/access.log fs_json buffer=64k flush=1s if=$fs_access_logged;`,
  ].join("\n");
}

function onOff(name: string, knob: string | undefined, on: string): string {
  if (knob === "on") return on;
  if (knob === "off") return "";
  throw new Error(`knob ${name} must be on or off, got '${knob}'`);
}

/** The internal metrics listener: its own server, never the public one. */
function metricsServer(listen: string | undefined): string {
  if (listen === undefined || listen === "") throw new Error("knob metrics_listen is missing (knobs.conf)");
  return `
    # Prometheus metrics and readiness (knob metrics_listen): internal only.
    server {
        listen ${listen};
        access_log off;
        location = /metrics {
            content_by_lua_block { require("handlers.metrics").handleMetrics() }
        }
        # Readiness: 200 once the sale configs are synced (a fresh gateway would 404 live sales).
        location = /ready {
            content_by_lua_block { require("handlers.ready").handleReady() }
        }
        location / { return 404; }
    }`;
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
    static_dir: opts.staticDir ?? path.join(REPO_ROOT, "static/build/public"),
    dev_login_location: devLoginLocation(knobs.dev_login),
    shop_login_url: shopLoginUrl(knobs.shop_login_url),
    load_modules:
      flavor === "local"
        ? "load_module /usr/lib/nginx/modules/ndk_http_module.so;\nload_module /usr/lib/nginx/modules/ngx_http_lua_module.so;"
        : "",
    mime_types: flavor === "local" ? "/etc/nginx/mime.types" : "/usr/local/openresty/nginx/conf/mime.types",
    // Debian installs lua-resty-redis and lua-resty-string as nginx.*; OpenResty as resty.*.
    lua_module_aliases: flavor === "local" ? luaModuleAliases("        ") : "",
    set_real_ip_from: (knobs.trusted_proxies ?? "")
      .split(/\s+/)
      .filter((cidr) => cidr !== "")
      .map((cidr) => `    set_real_ip_from ${cidr};`)
      .join("\n"),
    access_log: accessLog(knobs, opts.prefix),
    ip_nodelay: onOff("ip_nodelay", knobs.ip_nodelay, "nodelay"),
    metrics_server: metricsServer(knobs.metrics_listen),
    bench_server: opts.benchListen !== undefined ? benchServer(opts.benchListen) : "",
    // The routes take only ids the gateway's core accepts.
    sale_id_pattern: SALE_ID_PATTERN,
    order_id_pattern: ORDER_ID_PATTERN,
  };
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`nginx.conf.template uses {{${name}}}, which no knob or option defines`);
    return value;
  });
}

/** Writes nginx.conf, errors.conf and pages.conf into the prefix (or outDir) and creates its logs/ and tmp/. */
export function renderInto(opts: RenderOptions): string {
  const template = readFileSync(path.join(NGINX_CONF_DIR, "nginx.conf.template"), "utf8");
  const out = opts.outDir ?? opts.prefix;
  for (const dir of ["logs", "tmp"]) mkdirSync(path.join(out, dir), { recursive: true });
  const confPath = path.join(out, "nginx.conf");
  writeFileSync(path.join(out, "errors.conf"), renderErrors() + "\n");
  const pagesTemplate = readFileSync(path.join(NGINX_CONF_DIR, "pages.conf.template"), "utf8");
  writeFileSync(path.join(out, "pages.conf"), renderNginxConf(pagesTemplate, opts));
  writeFileSync(confPath, renderNginxConf(template, opts));
  return confPath;
}
