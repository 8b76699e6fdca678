/**
 * The admin listener's edges, without a browser: wrong tokens are throttled per client address
 * (429 rate_limited with Retry-After, also for the right token from a browser that never signed
 * in, while another address still logs in); a missing asset and a bad %-encoding under /admin are a 404 / 400 of the catalogue,
 * never a 500 and never a logged stack; the favicon needs no session; a sale name with a NUL or
 * another control character is a field error, not a 500 from Postgres.
 */
import { Writable } from "node:stream";
import pino from "pino";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import type { ServedApp } from "./support/admin-app";
import { TEST_ADMIN_TOKEN } from "./support/control-plane";
import { request, type HttpResponse } from "./support/http";

let server: ServedApp;
/** Every line the control plane logged. */
const logged: string[] = [];

type Answer = HttpResponse;

/** A request to the control plane from `localAddress` (any 127.x address reaches it). */
function call(method: string, path: string, opts: { headers?: Record<string, string>; body?: string; localAddress?: string } = {}): Promise<Answer> {
  return request(`${server.url}${path}`, { method, ...opts });
}

function login(token: string, opts: { accept?: string; localAddress?: string } = {}): Promise<Answer> {
  return call("POST", "/admin/login", {
    headers: { "content-type": "application/x-www-form-urlencoded", accept: opts.accept ?? "text/html" },
    body: new URLSearchParams({ token }).toString(),
    localAddress: opts.localAddress,
  });
}

function admin(method: string, path: string, body?: unknown): Promise<Answer> {
  return call(method, path, {
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const stack = useStack(new TestStack({ name: "admin_ui_edge", gateway: false, controlPlane: false }), async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(...chunk.toString("utf8").split("\n").filter((l) => l !== ""));
      done();
    },
  });
  server = await stack.serveAdminApp({ logger: pino({ level: "info" }, sink) });
});

test("30 wrong tokens from one address: 10 are refused as wrong, then tries wait a doubling backoff (429 with Retry-After, the right token from a new browser too)", async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) {
    const res = await login(`wrong-token-${i}`, { localAddress: "127.0.0.3" });
    statuses.push(res.status);
    if (res.status === 429) {
      const retryAfter = Number(res.headers["retry-after"]);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
  }
  // Past 10 failures each wait doubles (from 1 s): a try held back is refused unchecked, one let
  // through fails and doubles the wait again.
  expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
  expect(statuses.slice(10).every((s) => s === 429 || s === 401)).toBe(true);
  expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(15);

  // The right token from a browser that never signed in waits too: it would otherwise tell a
  // guesser which guess was right (a browser that did holds a device cookie: admin-operators test).
  const right = await login(TEST_ADMIN_TOKEN, { localAddress: "127.0.0.3" });
  expect(right.status).toBe(429);
  expect(right.headers["set-cookie"]).toBeUndefined();
  expect(right.text).toMatch(/Too many failed sign-ins; try again in \d+ s\./);

  // A script asking for JSON gets the catalogue's body.
  const json = await login("wrong", { localAddress: "127.0.0.3", accept: "application/json" });
  expect(json.status).toBe(429);
  expect(JSON.parse(json.text)).toEqual({ error: "rate_limited", message: expect.stringMatching(/^Too many failed sign-ins/), retryAfter: Number(json.headers["retry-after"]) });

  // Another address is not held back.
  const other = await login(TEST_ADMIN_TOKEN, { localAddress: "127.0.0.4" });
  expect(other.status).toBe(303);
  expect(other.headers["set-cookie"]).toEqual(expect.arrayContaining([expect.stringMatching(/^fs_admin_session=/)]));
});

test.each([
  ["a missing asset", "/admin/assets/missing.js", 404, "not_found"],
  ["a missing asset below a folder", "/admin/assets/a/b.css", 404, "not_found"],
  ["a bad %-encoding in an asset's name", "/admin/assets/%E0%A4%A.js", 400, "bad_request"],
  ["a bad %-encoding in a page's sale id", "/admin/sales/%E0%A4%A", 400, "bad_request"],
  ["a bad %-encoding in an orders page", "/admin/sales/%ZZ/orders", 400, "bad_request"],
])("%s (%s) answers %d %s without a session, and logs no error", async (_what, path, status, code) => {
  await expectCatalogueAnswer(() => call("GET", path), status, code);
});

test("a bad %-encoding in the API answers 400 bad_request (after the token check), and logs no error", async () => {
  await expectCatalogueAnswer(() => admin("GET", "/admin/api/sales/%E0%A4%A"), 400, "bad_request");
  await expectCatalogueAnswer(() => call("GET", "/admin/api/sales/%E0%A4%A"), 401, "unauthorized");
});

async function expectCatalogueAnswer(send: () => Promise<Answer>, status: number, code: string): Promise<void> {
  const before = logged.length;
  const res = await send();
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(JSON.parse(res.text)).toEqual({ error: code, message: expect.any(String) });
  expect(res.text).not.toMatch(/at .*\.js/);
  expect(logged.slice(before).filter((line) => /"level":(50|60)|stack/.test(line))).toEqual([]);
}

test("the favicon is served without a session (no 401 in a page's console)", async () => {
  for (const path of ["/favicon.ico", "/admin/assets/favicon.svg"]) {
    const res = await call("GET", path);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^image\/svg\+xml/);
    expect(res.text).toMatch(/^<svg /);
  }
});

test.each([
  ["a NUL", "Lunar\u0000Lamp"],
  ["a line break", "Lunar\nLamp"],
  ["an escape", "Lunar\u001b[31mLamp"],
])("a sale name with %s is a field error on create and on update, and nothing is stored", async (_what, name) => {
  const sale = { name: "Lunar Lamp", price: 100, stock: 5, startsAt: "2030-01-01T12:00:00Z", endsAt: "2030-01-01T13:00:00Z", deduction: "order" };
  const expected = { error: "bad_request", message: expect.any(String), fields: [{ path: "name", message: "must not contain control characters (such as NUL, tab or line breaks)" }] };

  const created = await admin("POST", "/admin/api/sales", { ...sale, name });
  expect(created.status).toBe(400);
  expect(JSON.parse(created.text)).toEqual(expected);
  expect((await stack.db.pool.query("SELECT count(*)::int AS n FROM sales")).rows[0].n).toBe(0);

  const id = `edge-${Date.now()}`;
  expect((await admin("POST", "/admin/api/sales", { ...sale, id })).status).toBe(201);
  const patched = await admin("PATCH", `/admin/api/sales/${id}`, { name });
  expect(patched.status).toBe(400);
  expect(JSON.parse(patched.text)).toEqual(expected);
  expect((await stack.db.pool.query("SELECT name FROM sales WHERE id = $1", [id])).rows[0].name).toBe("Lunar Lamp");
  await admin("DELETE", `/admin/api/sales/${id}`);
});
