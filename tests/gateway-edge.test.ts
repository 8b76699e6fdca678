/**
 * Clean errors at the edge, against the real nginx: requests nginx cannot parse answer the
 * catalogue's JSON (not nginx's HTML, not a 5xx), every JSON answer says nosniff, methods are
 * checked on every route (405 with Allow, TRACE too, and a flood of them writes nothing to the
 * error log), Retry-After is bounded, tokens honour nbf and a lifetime bound, a slow-header
 * client is cut off, reads have their own per-IP limit, and per-IP refusals neither write
 * [error] lines nor fill the access log, nor do reads.
 */
import net from "node:net";
import { CONFIG_VERSION_KEY, SALE_CONFIGS_KEY } from "@flash-sale/contract/keys";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { Gateway, LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { purchase, request } from "./support/http";
import { publishSaleConfig } from "./support/stream-fixtures";
import { signToken } from "./support/tokens";

jest.setTimeout(60_000);

const stack = useStack(new TestStack({ name: "gateway_edge", knobs: { ...LOAD_TEST_KNOBS, client_header_timeout: "1", access_log_refusals_percent: "0" }, database: false, controlPlane: false }));

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent (several answers, when requests were pipelined). */
  all: string;
  /** ms from the last byte sent to the server closing the connection. */
  closedAfterMs: number;
}

/** Sends bytes as they are (no client-side URL or header checks) and reads the whole answer. */
function raw(port: number, bytes: string, keepOpenMs = 0): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    let sentAt = 0;
    socket.on("connect", () => {
      socket.write(bytes);
      sentAt = Date.now();
      if (keepOpenMs > 0) setTimeout(() => socket.destroy(), keepOpenMs);
    });
    socket.setEncoding("utf8").on("data", (c: string) => (data += c));
    socket.on("error", reject);
    socket.on("close", () => {
      const [head = "", body = ""] = data.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      resolve({ status: Number(statusLine.split(" ")[1] ?? 0), headers, body, all: data, closedAfterMs: Date.now() - sentAt });
    });
  });
}

const CLOSE = "\r\nHost: edge\r\nConnection: close\r\n\r\n";

test.each([
  ["a path escaping the root", `GET /../x HTTP/1.1${CLOSE}`, 400, "bad_request"],
  ["OPTIONS *", `OPTIONS * HTTP/1.1${CLOSE}`, 400, "bad_request"],
  ["a NUL in the path", `GET /a%00b HTTP/1.1${CLOSE}`, 400, "bad_request"],
  ["a line that is no request", `garbage${CLOSE}`, 400, "bad_request"],
  ["an unknown method on a page", `FOO / HTTP/1.1${CLOSE}`, 405, "method_not_allowed"],
  ["DELETE /api/time", `DELETE /api/time HTTP/1.1${CLOSE}`, 405, "method_not_allowed"],
  ["an unknown API path", `GET /api/nope HTTP/1.1${CLOSE}`, 404, "not_found"],
  ["a URI of 9 KB", `GET /${"a".repeat(9000)} HTTP/1.1${CLOSE}`, 414, "uri_too_long"],
  ["a header of 9 KB", `GET / HTTP/1.1\r\nHost: edge\r\nX-Big: ${"a".repeat(9000)}\r\nConnection: close\r\n\r\n`, 431, "headers_too_large"],
  ["an unknown transfer coding", `POST /api/sales/x/purchase HTTP/1.1\r\nHost: edge\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n`, 501, "not_implemented"],
  ["HTTP/2.7", `GET / HTTP/2.7${CLOSE}`, 505, "http_version_not_supported"],
])("%s → %p %s, as catalogue JSON, no [error] line", async (_what, bytes, status, code) => {
  const errorsBefore = stack.gateway.errorLines().length;
  const answer = await raw(stack.gateway.port, bytes);
  expect(answer.status).toBe(status);
  expect(answer.headers["content-type"]).toBe("application/json");
  expect(answer.headers["x-content-type-options"]).toBe("nosniff");
  expect(JSON.parse(answer.body)).toEqual({ error: code, message: expect.any(String) });
  expect([answer.headers["transfer-encoding"], Number(answer.headers["content-length"])]).toEqual([undefined, Buffer.byteLength(answer.body)]);
  expect(stack.gateway.errorLines().slice(errorsBefore)).toEqual([]);
});

test("those requests are counted as what they are, never as a 5xx", async () => {
  const metrics = await (await fetch(stack.gateway.metricsUrl)).text();
  expect(metrics).toMatch(/fs_gateway_requests_total\{[^}]*outcome="bad_request"[^}]*\} [1-9]/);
  expect(metrics).not.toMatch(/fs_gateway_requests_total\{[^}]*outcome="(internal_error|http_5\d\d)"[^}]*\} [1-9]/);
});

/** Each route and the methods it takes; the Allow header of its 405 lists exactly those. */
const ROUTE_METHODS: [string, string[]][] = [
  ["/api/time", ["GET", "HEAD"]],
  ["/api/sales", ["GET", "HEAD"]],
  ["/api/session", ["GET", "HEAD", "DELETE"]],
  ["/api/sales/edge-x", ["GET", "HEAD"]],
  ["/api/sales/edge-x/purchase", ["POST"]],
  ["/api/sales/edge-x/challenge", ["POST"]],
  ["/api/sales/edge-x/queue", ["GET", "POST"]],
  ["/api/orders", ["GET", "HEAD"]],
  ["/api/orders/edge-x.1.1", ["GET", "HEAD"]],
  ["/api/orders/edge-x.1.1/pay", ["POST"]],
  ["/", ["GET", "HEAD"]],
  ["/sales/edge-x", ["GET", "HEAD"]],
];

test.each(ROUTE_METHODS)("%s: TRACE and the methods it does not take → 405 method_not_allowed with Allow; those it takes are not refused so", async (route, methods) => {
  for (const method of ["TRACE", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO", "GET", "HEAD", "POST"].filter((m) => !methods.includes(m))) {
    const answer = await raw(stack.gateway.port, `${method} ${route} HTTP/1.1${CLOSE}`);
    expect([method, answer.status, answer.headers["allow"], answer.headers["content-type"]]).toEqual([method, 405, methods.join(", "), "application/json"]);
    if (method !== "HEAD") expect(JSON.parse(answer.body)).toEqual({ error: "method_not_allowed", message: expect.any(String) });
  }
  for (const method of methods) {
    const answer = await raw(stack.gateway.port, `${method} ${route} HTTP/1.1\r\nHost: edge\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    expect([method, answer.status]).not.toEqual([method, 405]);
  }
});

test("a flood of TRACE and other methods no route takes leaves the error log as it was", async () => {
  await new Promise((r) => setTimeout(r, 300)); // the config sync's first lines, if any
  const before = stack.gateway.errorLog();
  const tried = ["PUT /api/sales/edge-x", "DELETE /api/sales/edge-x/purchase", "FOO /api/orders", "PROPPATCH /", "GET /api/orders/edge-x.1.1/pay"];
  let refused = 0;
  // nginx closes the connection after refusing TRACE: one connection each. The others, pipelined.
  for (let round = 0; round < 20; round++) {
    const answers = await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => raw(stack.gateway.port, `TRACE ${i % 2 === 0 ? "/" : "/api/sales/edge-x/purchase"} HTTP/1.1${CLOSE}`)),
      raw(stack.gateway.port, Array.from({ length: 50 }, (_, i) => `${tried[i % tried.length]} HTTP/1.1\r\nHost: edge\r\n${i === 49 ? "Connection: close\r\n" : ""}\r\n`).join("")),
    ]);
    for (const a of answers) refused += (a.all.match(/HTTP\/1\.1 405 /g) ?? []).length;
  }
  expect(refused).toBe(2000);
  await new Promise((r) => setTimeout(r, 300));
  expect(stack.gateway.errorLog()).toBe(before);
});

test("the gateway's own JSON answers say nosniff too, and their length (never chunked)", async () => {
  const time = await request(`${stack.gateway.url}/api/time`);
  const refused = await request(`${stack.gateway.url}/api/sales/nope/purchase`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  expect([time.status, refused.status]).toEqual([200, 404]);
  for (const res of [time, refused]) {
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect([res.headers["transfer-encoding"], Number(res.headers["content-length"])]).toEqual([undefined, Buffer.byteLength(res.text)]);
  }
});

test("a client that sends its headers slowly is cut off after client_header_timeout", async () => {
  const answer = await raw(stack.gateway.port, "GET /api/time HTTP/1.1\r\nHost: edge\r\n", 10_000);
  expect(answer.body).toBe(""); // nginx closes without an answer (408 in its log)
  expect(answer.closedAfterMs).toBeGreaterThanOrEqual(900);
  expect(answer.closedAfterMs).toBeLessThan(3000);
});

describe("a sale published with an absurd rate, and tokens", () => {
  const SALE = "edge-rates";

  beforeAll(async () => {
    await publishSaleConfig(stack.redis, { id: SALE, stock: 10, perUserLimit: 1 });
    // The control plane's schema refuses such a rate; the gateway must still stay sane.
    const record = JSON.parse((await stack.redis.hget(SALE_CONFIGS_KEY, SALE))!);
    record.limits = { userRatePerSecond: 1e-300, userBurst: 0, admitPerSecond: 1000 };
    await stack.redis.hset(SALE_CONFIGS_KEY, SALE, JSON.stringify(record));
    await stack.redis.incr("{fs:config}:version");
    await waitForSale(stack.gateway, SALE);
  });

  test("a 429 tells at most an hour in Retry-After", async () => {
    const token = signToken("slow-shopper");
    expect((await purchase(stack.gateway.url, SALE, token, { quantity: 1 })).status).toBe(202);
    // The next attempt would be allowed after 1e300 s.
    const res = await purchase(stack.gateway.url, SALE, token, { quantity: 1 });
    expect(res.status).toBe(429);
    expect(res.headers["retry-after"]).toBe("3600");
    expect(res.json()).toMatchObject({ error: "rate_limited", retryAfter: 3600 });
  });

  test.each([
    ["an exp of 1e300 (lives longer than token_max_lifetime_seconds)", { exp: 1e300 }],
    ["an exp two days away", { exp: Math.floor(Date.now() / 1000) + 2 * 86400 }],
    ["an nbf an hour away", { exp: Math.floor(Date.now() / 1000) + 600, nbf: Math.floor(Date.now() / 1000) + 3600 }],
  ])("a token with %s is refused (401) and sells nothing", async (_what, claims) => {
    const token = signToken("t", { claims: { sub: "t", ...claims } });
    const res = await purchase(stack.gateway.url, SALE, token, { quantity: 1 });
    expect([res.status, res.json().error]).toEqual([401, "unauthorized"]);
  });

  test("a token the workers remember having read (signature_memo_size) still expires on time", async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const headers = { authorization: `Bearer ${signToken("memo-shopper", { claims: { sub: "memo-shopper", exp } })}` };
    for (let i = 0; i < 4; i++) expect((await request(`${stack.gateway.url}/api/orders`, { headers })).status).toBe(200);
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 100));
    for (let i = 0; i < 4; i++) {
      const res = await request(`${stack.gateway.url}/api/orders`, { headers });
      expect([res.status, res.json().error]).toEqual([401, "unauthorized"]);
    }
  });
});

describe("the access log's samples as shipped (access_log_refusals_percent and access_log_reads_percent = 10)", () => {
  const SALE = "edge-sampled";
  let sampled: Gateway;

  beforeAll(async () => {
    sampled = await stack.startGateway({ ...LOAD_TEST_KNOBS, worker_processes: "1" });
    await publishSaleConfig(stack.redis, { id: SALE, stock: 100, perUserLimit: 1 });
    await stack.redis.incr(CONFIG_VERSION_KEY);
    await waitForSale(sampled, SALE);
  });

  /** 2,000 requests, 50 at a time, each answered `status`. */
  async function send(url: string, status: number): Promise<void> {
    for (let sent = 0; sent < 2000; sent += 50) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => request(url)));
      expect(answers.every((a) => a.status === status)).toBe(true);
    }
  }

  test("keeps about a tenth of 2,000 refusals and of 2,000 reads, chosen per request, and every accepted purchase", async () => {
    const linesBefore = sampled.accessLog().length;
    await send(`${sampled.url}/api/orders`, 401);
    await send(`${sampled.url}/api/sales/${SALE}`, 200);
    for (let i = 0; i < 20; i++) expect((await purchase(sampled.url, SALE, signToken(`sampled-${i}`))).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1200)); // the access log's buffer is flushed every second
    const log = sampled.accessLog().slice(linesBefore);
    // Binomial(2000, 0.1): mean 200, standard deviation 13.4; six of them either side.
    for (const route of ["order_list", "sale_view"]) {
      const kept = log.filter((l) => l["route"] === route).length;
      expect([route, kept]).toEqual([route, expect.any(Number)]);
      expect(kept).toBeGreaterThan(120);
      expect(kept).toBeLessThan(280);
    }
    expect(log.filter((l) => l["route"] === "purchase" && l["status"] === 202)).toHaveLength(20);
    expect(sampled.errorLines()).toEqual([]);
  });
});

describe("the per-IP limit on reads (ip_read_rate, ip_read_burst)", () => {
  let reads: Gateway;

  beforeAll(async () => {
    reads = await stack.startGateway({ ...LOAD_TEST_KNOBS, ip_read_rate: "1r/m", ip_read_burst: "3", worker_processes: "1", access_log_refusals_percent: "0" });
  });

  test("refuses reads past the burst with 429 rate_limited and Retry-After, every read route and the pages alike; writes have their own", async () => {
    const paths = ["/api/time", "/api/sales", "/api/session", "/api/sales/edge-rates", "/", "/sales/edge-rates"];
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => request(`${reads.url}${paths[i % paths.length]}`)));
    const refused = answers.filter((a) => a.status === 429);
    // The first and the burst, then nothing for a minute.
    expect(answers.length - refused.length).toBe(1 + 3);
    for (const a of refused) {
      expect([a.headers["retry-after"], a.json()]).toEqual(["1", { error: "rate_limited", message: expect.any(String), retryAfter: 1 }]);
    }
    expect((await request(`${reads.url}/api/time`)).status).toBe(429);
    // A purchase is under the purchases' limit (LOAD_TEST_KNOBS: ample), not the reads'.
    expect((await purchase(reads.url, "edge-rates", signToken("reads-shopper"))).status).not.toBe(429);
    const metrics = await (await fetch(reads.metricsUrl)).text();
    expect(metrics).toMatch(/route="time"[^}]*outcome="ip_limited"[^}]*\} [1-9]/);
    expect(reads.errorLines()).toEqual([]);
  });
});

describe("the workers' memo of checked tokens (signature_memo_size)", () => {
  let small: Gateway;

  beforeAll(async () => {
    small = await stack.startGateway({ signature_memo_size: "2", worker_processes: "1" });
  });

  test("past its size, tokens are checked again and every shopper stays who they are", async () => {
    const shoppers = Array.from({ length: 7 }, (_, i) => `memo-round-${i}`);
    const tokens = shoppers.map((s) => signToken(s));
    // All seven in turn (each forgotten before it comes back), then three in turn (each found in
    // the older generation and kept).
    const order = [...Array.from({ length: 21 }, (_, k) => k % 7), ...Array.from({ length: 12 }, (_, k) => k % 3)];
    for (const i of order) {
      const res = await request(`${small.url}/api/session`, { headers: { authorization: `Bearer ${tokens[i]}` } });
      expect([res.status, res.json().user]).toEqual([200, shoppers[i]]);
    }
    const forged = tokens[0]!.slice(0, -2) + (tokens[0]!.endsWith("AA") ? "BB" : "AA");
    expect((await request(`${small.url}/api/session`, { headers: { authorization: `Bearer ${forged}` } })).json().loggedIn).toBe(false);
    expect(small.errorLines()).toEqual([]);
  });
});

describe("per-IP refusals under a burst", () => {
  let tight: Gateway;

  beforeAll(async () => {
    tight = await stack.startGateway({ ip_rate: "1r/s", ip_burst: "1", worker_processes: "1", access_log_refusals_percent: "0", access_log_reads_percent: "100" });
  });

  test("write no [error] line and no line at all below error_log_level, and skip the access log at 0 %", async () => {
    const answers = await Promise.all(Array.from({ length: 60 }, () => request(`${tight.url}/api/orders/x.1.1`)));
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(45);
    for (const a of refused) expect(a.json().error).toBe("rate_limited");
    const times = await Promise.all(Array.from({ length: 3 }, () => request(`${tight.url}/api/time`)));
    expect(times.map((t) => t.status)).toEqual([200, 200, 200]);
    await new Promise((r) => setTimeout(r, 1200)); // the access log's buffer is flushed every second
    expect(tight.errorLines()).toEqual([]);
    expect(tight.errorLog()).not.toMatch(/limiting (requests|connections)/);
    const metrics = await (await fetch(tight.metricsUrl)).text();
    expect(metrics).toMatch(new RegExp(`outcome="ip_limited"[^}]*\\} ${refused.length}\\b`));
    // Refusals sampled at 0 %: no refusal is in the access log; the three answers below 400 are.
    const log = tight.accessLog();
    expect(log.map((l) => [l["route"], l["status"]])).toEqual([["time", 200], ["time", 200], ["time", 200]]);
  });
});
