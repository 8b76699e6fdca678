/**
 * Refused purchases: each gets a catalogue error, and nothing is written — no Redis key
 * changed, no stream entry, no row — and the nginx error log has no [error] line.
 */
import { ERROR_CATALOGUE, type ErrorCode } from "@flash-sale/contract/errors";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { snapshot } from "./support/counts";
import { request, type HttpRequest, type HttpResponse } from "./support/http";
import { b64url, signToken } from "./support/tokens";

const OPEN = "open-sale";

const stack = useStack(new TestStack({ name: "refusals", knobs: LOAD_TEST_KNOBS }), async () => {
  const now = Date.now();
  const limits = { userRatePerSecond: 10000, userBurst: 10000, admitPerSecond: 100000 };
  await stack.controlPlane.createSale({ id: OPEN, stock: 10, perUserLimit: 2, limits });
  await stack.controlPlane.createSale({
    id: "upcoming-sale",
    stock: 10,
    startsAt: new Date(now + 3_600_000).toISOString(),
    endsAt: new Date(now + 7_200_000).toISOString(),
  });
  await stack.controlPlane.createSale({
    id: "ended-sale",
    stock: 10,
    startsAt: new Date(now - 7_200_000).toISOString(),
    endsAt: new Date(now - 3_600_000).toISOString(),
  });
  for (const id of [OPEN, "upcoming-sale", "ended-sale"]) await waitForSale(stack.gateway, id);
});

const token = signToken("refused-shopper");

function post(saleId: string, req: HttpRequest): Promise<HttpResponse> {
  return request(`${stack.gateway.url}/api/sales/${saleId}/purchase`, { method: "POST", ...req });
}

function jsonPost(saleId: string, body: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
  return post(saleId, {
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
    body,
  });
}

/** Sends a request and checks the catalogue error, that nothing was written, and the error log. */
async function expectRefused(send: () => Promise<HttpResponse>, code: ErrorCode): Promise<HttpResponse> {
  const before = await snapshot(stack.redis, stack.db.pool);
  const logLinesBefore = stack.gateway.errorLines().length;
  const res = await send();
  expect({ status: res.status, error: res.json().error }).toEqual({ status: ERROR_CATALOGUE[code].status, error: code });
  expect(typeof res.json().message).toBe("string");
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(await snapshot(stack.redis, stack.db.pool)).toBe(before);
  expect(stack.gateway.errorLines().slice(logLinesBefore)).toEqual([]);
  return res;
}

describe("sale window by the server's clock", () => {
  test("before startsAt: 425 with startsAt", async () => {
    const res = await expectRefused(() => jsonPost("upcoming-sale", '{"quantity":1}'), "not_started");
    const startsAt = res.json().startsAt as string;
    expect(new Date(startsAt).toISOString()).toBe(startsAt);
    expect(Date.parse(startsAt)).toBeGreaterThan(Date.now());
  });
  test("after endsAt: 410 sale_ended", async () => {
    await expectRefused(() => jsonPost("ended-sale", '{"quantity":1}'), "sale_ended");
  });
  test("unknown sale: 404", async () => {
    await expectRefused(() => jsonPost("no-such-sale", '{"quantity":1}'), "sale_not_found");
  });
  test("a sale id that is not a slug: 404 from nginx, same catalogue", async () => {
    await expectRefused(() => jsonPost("Bad_Id", '{"quantity":1}'), "not_found");
  });
});

describe("shopper token", () => {
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, string | undefined][] = [
    ["missing", undefined],
    ["malformed", "not-a-jwt"],
    ["two parts", "a.b"],
    ["four parts", `${signToken("u")}.x`],
    ["bad signature", signToken("u", { secret: "another-secret-another-secret-0123456789" })],
    ["alg none", `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(JSON.stringify({ sub: "u", exp: now + 600 }))}.`],
    ["alg none, signed", signToken("u", { alg: "none" })],
    ["alg HS512", signToken("u", { alg: "HS512" })],
    ["alg hs256 (case)", signToken("u", { alg: "hs256" })],
    ["expired", signToken("u", { expiresInSec: -10 })],
    ["no exp", signToken("u", { claims: { sub: "u" } })],
    ["exp as text", signToken("u", { claims: { sub: "u", exp: String(now + 600) } })],
    ["no sub", signToken("u", { claims: { exp: now + 600 } })],
    ["empty sub", signToken("u", { claims: { sub: "", exp: now + 600 } })],
    ["numeric sub", signToken("u", { claims: { sub: 42, exp: now + 600 } })],
    ["sub with a space", signToken("u", { claims: { sub: "a b", exp: now + 600 } })],
    ["sub not ASCII", signToken("u", { claims: { sub: "é", exp: now + 600 } })],
    ["header not JSON", `${b64url("{nope")}.${b64url(JSON.stringify({ sub: "u", exp: now + 600 }))}.sig`],
  ];
  test.each(cases)("%s → 401", async (_name, jwt) => {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (jwt !== undefined) headers.Authorization = `Bearer ${jwt}`;
    await expectRefused(() => post(OPEN, { headers, body: '{"quantity":1}' }), "unauthorized");
  });
  test("a good token in the fs_token cookie is accepted", async () => {
    const res = await post(OPEN, {
      headers: { Cookie: `fs_token=${signToken("cookie-shopper")}`, "Content-Type": "application/json" },
      body: '{"quantity":1}',
    });
    expect(res.status).toBe(202);
  });
});

describe("bad input", () => {
  const cases: [string, string, Record<string, string>?][] = [
    ["malformed JSON", '{"quantity":'],
    ["empty body", ""],
    ["a JSON array", "[]"],
    ["a JSON string", '"x"'],
    ["JSON null", "null"],
    ["quantity 0", '{"quantity":0}'],
    ["quantity -1", '{"quantity":-1}'],
    ["quantity 1.5", '{"quantity":1.5}'],
    ["quantity 1e9", '{"quantity":1e9}'],
    ["quantity above the per-user limit", '{"quantity":3}'],
    ["quantity as text", '{"quantity":"x"}'],
    ["quantity numeric text", '{"quantity":"1"}'],
    ["quantity null", '{"quantity":null}'],
    ["quantity missing", "{}"],
    ["unknown field", '{"quantity":1,"price":0}'],
    ["numeric key", '{"1":1,"quantity":1}'],
    ["NaN", '{"quantity":NaN}'],
    ["deep nesting", `{"quantity":1,"answer":${"[".repeat(50)}${"]".repeat(50)}}`],
    ["wrong content type", '{"quantity":1}', { "Content-Type": "text/plain" }],
    ["form content type", "quantity=1", { "Content-Type": "application/x-www-form-urlencoded" }],
  ];
  // One argument per row: jest reads a longer parameter list than a row as a `done` callback.
  test.each(cases)("%s → 400 bad_request", async (...[, body, headers]) => {
    await expectRefused(() => jsonPost(OPEN, body, headers ?? {}), "bad_request");
  });

  test("a body over 1 KB with Content-Length → 413", async () => {
    const body = JSON.stringify({ quantity: 1, answer: "x".repeat(1100) });
    await expectRefused(() => jsonPost(OPEN, body), "payload_too_large");
  });
  test("a body over 1 KB, chunked without Content-Length → 413", async () => {
    const body = JSON.stringify({ quantity: 1, answer: "x".repeat(1100) });
    await expectRefused(
      () => post(OPEN, { headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body, chunked: true }),
      "payload_too_large",
    );
  });
  test("GET on the purchase URL → 405 in the catalogue's form", async () => {
    await expectRefused(() => request(`${stack.gateway.url}/api/sales/${OPEN}/purchase`), "method_not_allowed");
  });
});

test("the refusals above sold nothing, and a good request still buys", async () => {
  const res = await jsonPost(OPEN, '{"quantity":2}');
  expect(res.status).toBe(202);
  expect(res.json()).toEqual({ orderId: expect.stringMatching(/^open-sale\.\d+\.\d+$/), status: "pending" });
});

test("GET /api/time answers the server's clock, never cached", async () => {
  const before = Date.now();
  const res = await request(`${stack.gateway.url}/api/time`);
  expect(res.status).toBe(200);
  expect(res.headers["cache-control"]).toBe("no-store");
  const now = res.json().now as number;
  expect(Number.isInteger(now)).toBe(true);
  expect(Math.abs(now - before)).toBeLessThan(5000);
});

test("GET /api/sales/{id} is the public view, briefly cacheable", async () => {
  const res = await request(`${stack.gateway.url}/api/sales/upcoming-sale`);
  expect(res.status).toBe(200);
  expect(res.headers["cache-control"]).toBe("public, max-age=1");
  expect(res.json()).toEqual({
    id: "upcoming-sale",
    name: "Test sale",
    price: 199,
    currency: "USD",
    startsAt: expect.any(String),
    endsAt: expect.any(String),
    status: "upcoming",
    challenge: false,
    perUserLimit: 1,
    stock: { total: 10, left: 10 },
  });
  expect((await request(`${stack.gateway.url}/api/sales/ended-sale`)).json().status).toBe("ended");
});
