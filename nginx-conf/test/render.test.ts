/** The rendered nginx config: every SRE knob lands where it should, for both flavors. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { NGINX_CONF_DIR, renderInto, renderNginxConf } from "../src/render";
import { KNOBS_FILE, readKnobs } from "../src/knobs";
import { ORDER_ID_PATTERN, SALE_ID_PATTERN } from "@flash-sale/contract/ids";

const template = readFileSync(path.join(NGINX_CONF_DIR, "nginx.conf.template"), "utf8");
const defaults = readKnobs(KNOBS_FILE, {});

function render(knobs: Record<string, string> = {}, flavor: "local" | "openresty" = "local"): string {
  return renderNginxConf(template, { prefix: "/p", listen: "8080", flavor, knobs: { ...defaults, ...knobs } });
}

/** The body of the server block that listens on `listen`. */
function serverListening(conf: string, listen: string): string {
  const blocks = conf.split(/\n    server \{/).slice(1);
  const block = blocks.find((b) => b.includes(`listen ${listen}`));
  if (block === undefined) throw new Error(`no server listens on ${listen}`);
  return block;
}

test("every knob the issue names has a default with its unit in knobs.conf", () => {
  const text = readFileSync(KNOBS_FILE, "utf8");
  for (const knob of [
    "ip_rate", "ip_burst", "ip_nodelay", "ip_connections", "worker_processes", "worker_connections",
    "redis_connect_timeout_ms", "redis_timeout_ms", "redis_pool_size", "redis_pool_backlog", "redis_idle_timeout_ms",
    "flags_dict_size", "limits_dict_size", "metrics_dict_size", "client_max_body_size", "client_body_timeout",
    "trusted_proxies", "default_admit_per_second", "metrics_listen", "access_log", "access_log_refusals_percent", "access_log_polls_percent",
    "redis_wait_replicas", "redis_wait_timeout_ms", "ip_read_rate", "ip_read_burst", "access_log_reads_percent",
    "log_rotate_size", "log_rotate_keep", "log_rotate_check_seconds", "worker_shutdown_timeout",
  ]) {
    expect(defaults[knob]).toBeDefined();
    // A comment says what it is and in which unit, right above it or above the knobs it is grouped with.
    const before = text.split(`\n${knob} = `)[0]!.split("\n");
    while (/^\w+ = /.test(before[before.length - 1]!)) before.pop();
    expect(before.pop()).toMatch(/^# /);
  }
});

test("metrics: their own server on loopback by default, never in the public one", () => {
  const conf = render();
  const metrics = serverListening(conf, "127.0.0.1:9145;");
  expect(metrics).toContain("location = /metrics");
  expect(metrics).toContain("location = /ready");
  expect(serverListening(conf, "8080 reuseport;")).not.toContain("handlers.ready");
  // A stopping gateway's drain is bounded (deploy/kubernetes: within the termination grace period).
  expect(conf).toContain("\nworker_shutdown_timeout 10s;\n");
  expect(serverListening(conf, "8080 reuseport;")).not.toContain("handlers.metrics");
  expect(render({ metrics_listen: "10.1.2.3:9999" })).toContain("listen 10.1.2.3:9999;");
});

test("the access log is JSON with the request id, route, sale and outcome; off writes none", () => {
  const conf = render();
  expect(conf).toContain("log_format fs_json escape=json");
  for (const field of ['"request_id":"$request_id"', '"route":"$fs_route"', '"sale":"$fs_sale_id"', '"outcome":"$fs_outcome"', '"status":$status']) {
    expect(conf).toContain(field);
  }
  expect(conf).toContain("access_log /p/logs/access.log fs_json");
  expect(render({ access_log: "off" })).toContain("access_log off;");
  expect(() => render({ access_log: "json" })).toThrow("access_log must be on or off");
});

test("the access log keeps every answer below 400 to a write, and samples refusals, reads and polls per request", () => {
  const conf = render();
  expect(conf).toContain(`split_clients "$connection.$connection_requests" $fs_refusal_sampled { 10% 1; * 0; }`);
  expect(conf).toContain(`split_clients "$connection.$connection_requests" $fs_poll_sampled { 10% 1; * 0; }`);
  expect(conf).toContain(`split_clients "$connection.$connection_requests" $fs_read_sampled { 10% 1; * 0; }`);
  expect(conf).toContain("map $request_method $fs_queue_answer_logged { GET $fs_poll_sampled; default 1; }");
  expect(conf).toContain("map $request_method $fs_read_answer_logged { GET $fs_read_sampled; HEAD $fs_read_sampled; default 1; }");
  expect(conf).toContain("map $fs_route $fs_answer_logged { queue $fs_queue_answer_logged; default $fs_read_answer_logged; }");
  expect(conf).toContain("map $status $fs_access_logged { ~^[123] $fs_answer_logged; default $fs_refusal_sampled; }");
  expect(conf).toContain("if=$fs_access_logged;");
  const all = render({ access_log_refusals_percent: "100", access_log_polls_percent: "0", access_log_reads_percent: "100" });
  expect(all).toContain("{ GET 0; default 1; }");
  expect(all).toContain("{ GET 1; HEAD 1; default 1; }");
  expect(all).toContain("default 1; }\n    access_log");
  expect(all).not.toContain("split_clients");
  expect(() => render({ access_log_polls_percent: "12.5" })).toThrow("access_log_polls_percent must be a whole number from 0 to 100, got '12.5'");
  expect(() => render({ access_log_refusals_percent: "101" })).toThrow("access_log_refusals_percent must be a whole number from 0 to 100");
  expect(() => render({ access_log_reads_percent: "-1" })).toThrow("access_log_reads_percent must be a whole number from 0 to 100");
});

test("per-IP limiter: rate, burst, nodelay on or off, connections; trusted proxies only", () => {
  const conf = render({ ip_rate: "7r/s", ip_burst: "9", ip_connections: "11", trusted_proxies: "10.0.0.0/8 192.168.0.0/16" });
  expect(conf).toContain("limit_req_zone $binary_remote_addr zone=fs_per_ip:20m rate=7r/s;");
  expect(conf).toContain("limit_req zone=fs_per_ip burst=9 nodelay;");
  expect(conf).toContain("limit_conn fs_conn_per_ip 11;");
  expect(conf).toContain("    set_real_ip_from 10.0.0.0/8;\n    set_real_ip_from 192.168.0.0/16;");
  expect(conf).not.toContain("set_real_ip_from 127.0.0.1");
  expect(render({ ip_nodelay: "off" })).toContain("limit_req zone=fs_per_ip burst=40 ;");
  // Reads: their own zone and knobs, on every read route.
  const reads = render({ ip_read_rate: "5r/s", ip_read_burst: "6" });
  expect(reads).toContain("limit_req_zone $binary_remote_addr zone=fs_reads_per_ip:20m rate=5r/s;");
  for (const route of ["time", "sale_list", "session", "sale_view"]) {
    expect(reads.split(`set $fs_route ${route};`)[1]!.split("}\n")[1]).toContain("limit_req zone=fs_reads_per_ip burst=6 nodelay;");
  }
  expect(() => render({ ip_nodelay: "yes" })).toThrow("ip_nodelay must be on or off");
});

test("the same source renders for the OpenResty image: no module loading, its mime types", () => {
  const local = render();
  const openresty = render({}, "openresty");
  expect(local).toContain("load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;");
  expect(openresty).not.toContain("load_module");
  expect(openresty).toContain("/usr/local/openresty/nginx/conf/mime.types");
  // Apart from those, the two differ in nothing an SRE tunes.
  for (const knob of ["limit_req_zone", "lua_shared_dict fs_metrics", "log_format fs_json", "listen 127.0.0.1:9145;"]) {
    expect(openresty).toContain(knob);
  }
});

test("replica acknowledgement: off by default; the knobs reach the gateway's environment", () => {
  expect(render()).toContain("env FS_REDIS_WAIT_REPLICAS=0;");
  const conf = render({ redis_wait_replicas: "1", redis_wait_timeout_ms: "250" });
  expect(conf).toContain("env FS_REDIS_WAIT_REPLICAS=1;");
  expect(conf).toContain("env FS_REDIS_WAIT_TIMEOUT_MS=250;");
});

test("nginx's own 502/503/504 answer the catalogue's unavailable with its Retry-After", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "fs-render-"));
  renderInto({ prefix: dir, listen: "8080", flavor: "local", knobs: defaults });
  const conf = readFileSync(path.join(dir, "errors.conf"), "utf8");
  rmSync(dir, { recursive: true, force: true });
  for (const status of [502, 503, 504]) {
    const block = conf.split(`location @fs_error_${status} {`)[1]!.split("\n}")[0]!;
    expect(block).toContain("add_header Retry-After 2 always;");
    expect(block).toContain(`"error":"unavailable"`);
    expect(block).toContain(`"retryAfter":2`);
  }
});

test("a 405 names the methods its URI takes (Allow), also for TRACE, which nginx refuses before routing", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "fs-render-"));
  renderInto({ prefix: dir, listen: "8080", flavor: "local", knobs: defaults });
  const errors = readFileSync(path.join(dir, "errors.conf"), "utf8");
  rmSync(dir, { recursive: true, force: true });
  expect(errors.split("location @fs_error_405 {")[1]!.split("\n}")[0]).toContain("add_header Allow $fs_allow always;");
  const conf = render();
  expect(conf).toContain("map $uri $fs_allow {");
  expect(conf).toContain('map "" $fs_route { default other; }');
  // The route's default is the map's: no `set` that TRACE would skip.
  expect(conf).not.toContain("set $fs_route other;");
});

test("the sale and order routes take the core's id patterns, spelled in no template", () => {
  const pagesTemplate = readFileSync(path.join(NGINX_CONF_DIR, "pages.conf.template"), "utf8");
  for (const text of [template, pagesTemplate]) expect(text).not.toContain("[a-z0-9][a-z0-9-]");
  expect(render()).toContain(`location ~ "^/api/sales/(?<fs_sale_id>${SALE_ID_PATTERN})/purchase$" {`);
  const pages = renderNginxConf(pagesTemplate, { prefix: "/p", listen: "8080", knobs: defaults });
  expect(pages).toContain(`location ~ "^/sales/${SALE_ID_PATTERN}$"`);
  expect(pages).toContain(`location ~ "^/orders/${ORDER_ID_PATTERN}$"`);
});
