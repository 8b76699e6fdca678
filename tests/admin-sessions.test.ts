/**
 * Admin UI sessions live in Postgres: a session made on one control-plane instance is known
 * by another and survives a restart; logout ends it everywhere; only a digest of the id is
 * stored. So do the sign-in throttle's failures: every instance counts the same ones, and a
 * browser that signed in before is not held back by them.
 */
import { createHash } from "node:crypto";
import type { Request as ExpressRequest, Response as ExpressResponse } from "express";
import { LoginThrottle } from "../control-plane/src/auth/login-throttle";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { ControlPlane, TEST_ADMIN_TOKEN } from "./support/control-plane";

const running: ControlPlane[] = [];

async function controlPlane(): Promise<ControlPlane> {
  const cp = await ControlPlane.start(stack.db.pool, stack.redisServer.url());
  running.push(cp);
  return cp;
}

const stack = useStack(new TestStack({ name: "admin_sessions", gateway: false, controlPlane: false }), async () => {
  stack.onStop(async () => {
    for (const cp of running) await cp.stop();
  });
});

async function login(cp: ControlPlane): Promise<string> {
  const res = await fetch(`${cp.url}/admin/login`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: TEST_ADMIN_TOKEN }).toString(),
    redirect: "manual",
  });
  expect(res.status).toBe(303);
  const cookie = /fs_admin_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "");
  if (cookie === null) throw new Error("no session cookie");
  return cookie[1]!;
}

/** The CSRF token of the session, as the page gives it; undefined when the page sends to the login. */
async function csrfOf(cp: ControlPlane, session: string): Promise<string | undefined> {
  const res = await fetch(`${cp.url}/admin`, { headers: { Cookie: `fs_admin_session=${session}` }, redirect: "manual" });
  if (res.status === 303) return undefined;
  expect(res.status).toBe(200);
  return /<meta name="csrf-token" content="([^"]+)">/.exec(await res.text())?.[1];
}

test("a session made on one instance works on another and after a restart; logout ends it everywhere", async () => {
  const a = await controlPlane();
  const b = await controlPlane();
  const session = await login(a);
  const csrf = await csrfOf(b, session);
  expect(csrf).toEqual(expect.any(String));

  // The JSON API on instance b accepts the session made on a.
  const list = await fetch(`${b.url}/admin/api/sales`, { headers: { Cookie: `fs_admin_session=${session}` } });
  expect(list.status).toBe(200);

  // a restarts: the session is still there.
  await a.stop();
  running.splice(running.indexOf(a), 1);
  const restarted = await controlPlane();
  expect(await csrfOf(restarted, session)).toBe(csrf);

  // Stored by digest only.
  const stored = await stack.db.pool.query<{ id_digest: Buffer }>("SELECT id_digest FROM admin_sessions");
  expect(stored.rows.map((r) => r.id_digest.toString("hex"))).toEqual([createHash("sha256").update(session).digest("hex")]);

  // Logout without the CSRF header leaves the session valid; with it, it ends on every instance.
  const refused = await fetch(`${b.url}/admin/logout`, { method: "POST", headers: { Cookie: `fs_admin_session=${session}` } });
  expect([refused.status, ((await refused.json()) as { error: string }).error]).toEqual([401, "unauthorized"]);
  expect(await csrfOf(restarted, session)).toBe(csrf);
  const out = await fetch(`${b.url}/admin/logout`, { method: "POST", headers: { Cookie: `fs_admin_session=${session}`, "X-CSRF-Token": csrf! } });
  expect(out.status).toBe(204);
  expect(await csrfOf(restarted, session)).toBeUndefined();
  expect(await csrfOf(b, session)).toBeUndefined();
  expect((await stack.db.pool.query("SELECT 1 FROM admin_sessions")).rowCount).toBe(0);
});

async function loginWith(cp: ControlPlane, token: string, device?: string): Promise<Response> {
  return fetch(`${cp.url}/admin/login`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json", ...(device === undefined ? {} : { Cookie: `fs_admin_device=${device}` }) },
    body: new URLSearchParams({ token }).toString(),
    redirect: "manual",
  });
}

test("wrong tokens are counted across instances: ten spread over two hold the address back on both, but not a browser that signed in before", async () => {
  const a = await controlPlane();
  const b = await controlPlane();
  await stack.db.pool.query("DELETE FROM admin_login_failures");
  const before = await loginWith(a, TEST_ADMIN_TOKEN);
  const device = /fs_admin_device=([^;]+)/.exec(before.headers.get("set-cookie") ?? "")![1]!;
  for (let i = 0; i < 10; i++) expect((await loginWith(i % 2 === 0 ? a : b, "wrong-token")).status).toBe(401);
  for (const cp of [a, b]) {
    const refused = await loginWith(cp, TEST_ADMIN_TOKEN);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ error: "rate_limited" });
    // The browser that signed in before still gets in with the right token.
    expect((await loginWith(cp, TEST_ADMIN_TOKEN, device)).status).toBe(303);
  }
  // Another address is not held back, and its right token clears its own count only.
  await stack.db.pool.query("UPDATE admin_login_failures SET address = 'elsewhere'");
  expect((await loginWith(b, TEST_ADMIN_TOKEN)).status).toBe(303);
  const { rows } = await stack.db.pool.query("SELECT count(*)::int AS n FROM admin_login_failures WHERE address = 'elsewhere'");
  expect(rows[0].n).toBe(10);
});

test("the throttle by Postgres' clock: held back past the threshold, each failure doubling the wait from the latest, cleared by a right credential", async () => {
  const throttle = new LoginThrottle(stack.db.pool, { addressThreshold: 10, accountThreshold: 2, baseWaitMs: 1000, maxWaitMs: 2000, windowMs: 60_000 });
  const req = { get: () => undefined } as unknown as ExpressRequest;
  await stack.db.pool.query("DELETE FROM admin_login_failures");
  await throttle.recordFailure(req, "10.0.0.1", "dave");
  expect(await throttle.retryAfterSeconds(req, "10.0.0.1", "dave")).toBe(0);
  await throttle.recordFailure(req, "10.0.0.2", "dave");
  // By account, from any address.
  expect(await throttle.retryAfterSeconds(req, "10.0.0.3", "dave")).toBe(1);
  expect(await throttle.retryAfterSeconds(req, "10.0.0.3", "erin")).toBe(0);
  await throttle.recordFailure(req, "10.0.0.2", "dave");
  expect(await throttle.retryAfterSeconds(req, "10.0.0.3", "dave")).toBe(2);
  await new Promise((r) => setTimeout(r, 2100));
  expect(await throttle.retryAfterSeconds(req, "10.0.0.3", "dave")).toBe(0);
  const res = { cookie: () => res } as unknown as ExpressResponse;
  await throttle.recordSuccess(req, res, "10.0.0.2", "dave");
  const { rows } = await stack.db.pool.query("SELECT address FROM admin_login_failures ORDER BY address");
  expect(rows).toEqual([{ address: "10.0.0.1" }]);
});
