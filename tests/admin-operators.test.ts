/**
 * Operators, roles and API tokens (issue 25): every admin API route has a rule in the one route
 * table and each role gets exactly what it allows; tokens are shown once, stored hashed, expire,
 * and are refused at once everywhere when deleted; a token mints nothing above its role; the
 * audit names the authenticated identity whatever X-Admin-Actor says; local accounts sign in
 * with an argon2id password and, for admins, a TOTP code; sessions are listed and revoked; the
 * sign-in throttle holds guessers back but never a device that signed in before; the bootstrap
 * token can be turned off.
 */
import { createHash } from "node:crypto";
import type { Express } from "express";
import { Secret, TOTP } from "otpauth";
import { ROUTE_ROLES, ruleFor } from "../control-plane/src/auth/route-roles";
import { ROLES, atLeast, type Role } from "../control-plane/src/auth/roles";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import type { ServedApp } from "./support/admin-app";
import { TEST_ADMIN_TOKEN } from "./support/control-plane";

const HOUR = 3600_000;

let server: ServedApp;

interface Answer {
  status: number;
  headers: Headers;
  body: any; // JSON, asserted field by field
}

async function call(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}, url = server.url): Promise<Answer> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === "" ? undefined : JSON.parse(text) };
}

async function serveAnother(bootstrap = true): Promise<ServedApp> {
  return stack.serveAdminApp({ adminToken: bootstrap ? TEST_ADMIN_TOKEN : undefined, loginThrottle: { addressThreshold: 6, accountThreshold: 3, baseWaitMs: 60_000, maxWaitMs: 600_000, windowMs: 3600_000 } });
}

async function mint(name: string, role: Role, by = TEST_ADMIN_TOKEN): Promise<string> {
  const res = await call("POST", "/admin/api/tokens", by, { name, role });
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

function sale(id: string, startsInMs: number): Record<string, unknown> {
  const now = Date.now();
  return { id, name: "Lamp", price: 100, stock: 10, startsAt: new Date(now + startsInMs).toISOString(), endsAt: new Date(now + 2 * HOUR).toISOString(), deduction: "order" };
}

const stack = useStack(new TestStack({ name: "admin_operators", gateway: false, controlPlane: false }), async () => {
  server = await serveAnother();
});

/** Every route of the app's router, mounted routers walked, as `METHOD /path`. */
function registeredRoutes(app: Express): string[] {
  const routes: string[] = [];
  const walk = (stack: any[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route !== undefined) {
        const paths: string[] = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths) for (const m of Object.keys(layer.route.methods)) routes.push(`${m.toUpperCase()} ${prefix}${p === "/" && prefix !== "" ? "" : p}`);
      } else if (Array.isArray(layer.handle?.stack) && typeof layer.rawPath === "string") {
        walk(layer.handle.stack, prefix + (layer.rawPath === "/" ? "" : layer.rawPath));
      }
    }
  };
  walk((app as any).router.stack, "");
  return routes;
}

describe("the route table", () => {
  it("has a rule for every admin API route the app registers, and no rule without a route", () => {
    const api = registeredRoutes(server.app).filter((r) => r.split(" ")[1]!.startsWith("/admin/api"));
    expect(api.length).toBeGreaterThan(25);
    const unruled = api.filter((r) => {
      const [method, path] = r.split(" ") as [string, string];
      return ROUTE_ROLES.find((rule) => rule.method === method && rule.path === path) === undefined;
    });
    expect(unruled).toEqual([]);
    expect(ROUTE_ROLES.map((r) => `${r.method} ${r.path}`).filter((r) => !api.includes(r))).toEqual([]);
  });

  it("gives each role what its rule allows on every route, and a 403 forbidden below it", async () => {
    const tokens = { viewer: await mint("matrix-viewer", "viewer"), operator: await mint("matrix-operator", "operator"), admin: await mint("matrix-admin", "admin") };
    const wrong: string[] = [];
    for (const rule of ROUTE_ROLES) {
      // Unknown ids: past the role check, a route answers 404 or a 400 of its body, never 401/403.
      const path = rule.path.replace(/:id/g, "999999999");
      for (const role of ROLES) {
        const res = await call(rule.method, path, tokens[role], rule.method === "GET" || rule.method === "DELETE" ? undefined : {});
        const allowed = atLeast(role, rule.role);
        const ok = allowed ? res.status !== 401 && res.status !== 403 : res.status === 403 && res.body?.error === "forbidden";
        if (!ok) wrong.push(`${rule.method} ${rule.path} as ${role}: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
    // A path no rule names is for admins.
    expect(ruleFor("POST", "/admin/api/nowhere")).toBeUndefined();
    expect((await call("POST", "/admin/api/nowhere", tokens.operator)).status).toBe(403);
    expect((await call("POST", "/admin/api/nowhere", tokens.admin)).status).toBe(404);
  });

  it("lets an operator pause and change a sale not yet started, and only an admin change one that has", async () => {
    const operator = await mint("sales-operator", "operator");
    expect((await call("POST", "/admin/api/sales", operator, sale("later", HOUR))).status).toBe(201);
    expect((await call("POST", "/admin/api/sales", TEST_ADMIN_TOKEN, sale("live", -60_000))).status).toBe(201);
    expect((await call("PATCH", "/admin/api/sales/later", operator, { name: "Lamp XL" })).status).toBe(200);
    expect((await call("POST", "/admin/api/sales/live/pause", operator)).status).toBe(200);
    const refused = await call("PATCH", "/admin/api/sales/live", operator, { name: "Lamp XL" });
    expect([refused.status, refused.body.error]).toEqual([403, "forbidden"]);
    expect((await call("PATCH", "/admin/api/sales/live", TEST_ADMIN_TOKEN, { name: "Lamp XL" })).status).toBe(200);
  });
});

describe("API tokens", () => {
  it("are shown once, kept as a digest, listed without secrets and with their last use", async () => {
    const created = await call("POST", "/admin/api/tokens", TEST_ADMIN_TOKEN, { name: "ci", role: "operator", expiresInDays: 7 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.any(String), name: "ci", role: "operator", token: expect.stringMatching(/^fsa_[\w-]{43}$/), createdBy: "bootstrap", lastUsedAt: null });
    expect(Date.parse(created.body.expiresAt) - Date.now()).toBeGreaterThan(7 * 24 * HOUR - 60_000);
    const { rows } = await stack.db.pool.query<{ token_digest: Buffer }>("SELECT token_digest FROM api_tokens WHERE id = $1", [created.body.id]);
    expect(rows[0]!.token_digest.toString("hex")).toBe(createHash("sha256").update(created.body.token).digest("hex"));
    expect((await call("GET", "/admin/api/me", created.body.token)).body).toEqual({ kind: "token", name: "ci", actor: "token:ci", role: "operator" });
    const listed = (await call("GET", "/admin/api/tokens", TEST_ADMIN_TOKEN)).body.tokens.find((t: any) => t.id === created.body.id);
    expect(listed).toEqual({ ...created.body, token: undefined, lastUsedAt: expect.any(String) });
    expect(JSON.stringify(listed)).not.toContain(created.body.token);
  });

  it("mint nothing above their own role", async () => {
    const operator = await mint("minter", "operator");
    const refused = await call("POST", "/admin/api/tokens", operator, { name: "escalate", role: "admin" });
    expect([refused.status, refused.body.error]).toEqual([403, "forbidden"]);
    expect((await call("POST", "/admin/api/tokens", operator, { name: "narrow", role: "viewer" })).status).toBe(201);
    const viewer = await mint("viewer-minter", "viewer");
    expect((await call("POST", "/admin/api/tokens", viewer, { name: "up", role: "operator" })).status).toBe(403);
  });

  it("are refused once expired, and at once on every instance once deleted", async () => {
    const token = await mint("short", "viewer");
    const other = await serveAnother();
    expect((await call("GET", "/admin/api/sales", token, undefined, {}, other.url)).status).toBe(200);
    await stack.db.pool.query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'short'");
    expect((await call("GET", "/admin/api/sales", token)).status).toBe(401);

    const revoked = await mint("revoked", "operator");
    const id = (await call("GET", "/admin/api/tokens", TEST_ADMIN_TOKEN)).body.tokens.find((t: any) => t.name === "revoked").id;
    expect((await call("GET", "/admin/api/sales", revoked, undefined, {}, other.url)).status).toBe(200);
    expect((await call("DELETE", `/admin/api/tokens/${id}`, TEST_ADMIN_TOKEN)).status).toBe(204);
    for (const url of [server.url, other.url]) expect((await call("GET", "/admin/api/sales", revoked, undefined, {}, url)).status).toBe(401);
  });

  it("are revoked by their maker or an admin only", async () => {
    const a = await mint("maker-a", "operator");
    const b = await mint("maker-b", "operator");
    const own = await call("POST", "/admin/api/tokens", a, { name: "a-script", role: "viewer" });
    expect((await call("DELETE", `/admin/api/tokens/${own.body.id}`, b)).status).toBe(403);
    expect((await call("DELETE", `/admin/api/tokens/${own.body.id}`, a)).status).toBe(204);
  });
});

describe("the audit", () => {
  it("names the token or operator that acted, whatever X-Admin-Actor says", async () => {
    const ci = await mint("deployer", "operator");
    expect((await call("POST", "/admin/api/sales", ci, sale("audited", HOUR), { "x-admin-actor": "alice" })).status).toBe(201);
    expect((await call("POST", "/admin/api/sales/audited/pause", TEST_ADMIN_TOKEN, undefined, { "x-admin-actor": "alice" })).status).toBe(200);
    const entries = (await call("GET", "/admin/api/sales/audited/audit", ci)).body.entries;
    expect(entries.map((e: any) => [e.action, e.actor])).toEqual([
      ["create", "token:deployer"],
      ["publish", "token:deployer"],
      ["pause", "bootstrap"],
    ]);
  });
});

/** Posts the login form; the session and device cookies it sets. */
async function signIn(form: Record<string, string>, cookies: Record<string, string> = {}, url = server.url): Promise<{ status: number; retryAfter: string | null; cookies: Record<string, string> }> {
  const res = await fetch(`${url}/admin/login`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
      cookie: Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join("; "),
    },
    body: new URLSearchParams(form).toString(),
    redirect: "manual",
  });
  const set: Record<string, string> = {};
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(";");
    const [k, ...v] = pair!.split("=");
    set[k!] = v.join("=");
  }
  return { status: res.status, retryAfter: res.headers.get("retry-after"), cookies: set };
}

async function sessionCall(method: string, path: string, session: string, csrf?: string): Promise<Answer> {
  const res = await fetch(server.url + path, { method, headers: { cookie: `fs_admin_session=${session}`, ...(csrf === undefined ? {} : { "x-csrf-token": csrf }) } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === "" ? undefined : JSON.parse(text) };
}

describe("local accounts", () => {
  let totp: TOTP;

  it("an admin gets a TOTP secret once and its password is stored as argon2id", async () => {
    const created = await call("POST", "/admin/api/operators", TEST_ADMIN_TOKEN, { name: "alice", email: "alice@example.com", role: "admin", password: "correct horse battery" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "alice", role: "admin", password: true, totp: true, totpSecret: expect.stringMatching(/^[A-Z2-7]{32}$/), totpUri: expect.stringMatching(/^otpauth:\/\/totp\//) });
    totp = new TOTP({ secret: Secret.fromBase32(created.body.totpSecret) });
    const { rows } = await stack.db.pool.query("SELECT password_hash FROM operators WHERE name = 'alice'");
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify((await call("GET", "/admin/api/operators", TEST_ADMIN_TOKEN)).body)).not.toMatch(/argon2|totpSecret/);
    // No admin without the second factor.
    const bare = await call("POST", "/admin/api/operators", TEST_ADMIN_TOKEN, { name: "bob", role: "operator", password: "another long secret" });
    expect(bare.body.totp).toBe(false);
    expect((await call("PATCH", `/admin/api/operators/${bare.body.id}`, TEST_ADMIN_TOKEN, { role: "admin" })).status).toBe(400);
  });

  it("signs in with the password and the current code only; the session acts and audits as the operator", async () => {
    expect((await signIn({ login: "alice", password: "correct horse battery", code: "" })).status).toBe(401);
    expect((await signIn({ login: "alice", password: "wrong horse battery", code: totp.generate() })).status).toBe(401);
    const ok = await signIn({ login: "alice@example.com", password: "correct horse battery", code: totp.generate() });
    expect(ok.status).toBe(303);
    const session = ok.cookies["fs_admin_session"]!;
    expect((await sessionCall("GET", "/admin/api/me", session)).body).toEqual({ kind: "operator", name: "alice", actor: "alice", role: "admin" });

    // Listed, and revoked: gone at once.
    const listed = (await call("GET", "/admin/api/sessions", TEST_ADMIN_TOKEN)).body.sessions;
    const mine = listed.find((s: any) => s.actor === "alice");
    expect(mine).toMatchObject({ id: expect.any(String), address: expect.any(String) });
    expect((await call("DELETE", `/admin/api/sessions/${mine.id}`, TEST_ADMIN_TOKEN)).status).toBe(204);
    expect((await sessionCall("GET", "/admin/api/me", session)).status).toBe(401);
  });

  it("a disabled operator's sessions end and it cannot sign in", async () => {
    // A code is taken once: the next step's, within the drift window.
    const ok = await signIn({ login: "alice", password: "correct horse battery", code: totp.generate({ timestamp: Date.now() + 30_000 }) });
    const session = ok.cookies["fs_admin_session"]!;
    const id = (await call("GET", "/admin/api/operators", TEST_ADMIN_TOKEN)).body.operators.find((o: any) => o.name === "alice").id;
    expect((await call("PATCH", `/admin/api/operators/${id}`, TEST_ADMIN_TOKEN, { disabled: true })).status).toBe(200);
    expect((await sessionCall("GET", "/admin/api/me", session)).status).toBe(401);
    expect((await signIn({ login: "alice", password: "correct horse battery", code: totp.generate() }, ok.cookies)).status).toBe(401);
    expect((await call("PATCH", `/admin/api/operators/${id}`, TEST_ADMIN_TOKEN, { disabled: false })).status).toBe(200);
  });
});

describe("the sign-in throttle", () => {
  it("counts failures by account and by address, holds guessers back with a growing wait, and never a device that signed in before", async () => {
    const app = await serveAnother();
    await stack.db.pool.query("DELETE FROM admin_login_failures");
    await call("POST", "/admin/api/operators", TEST_ADMIN_TOKEN, { name: "carol", role: "viewer", password: "carol's long password" });
    const good = { login: "carol", password: "carol's long password" };
    // Carol's browser signed in once: it holds a device cookie.
    const first = await signIn(good, {}, app.url);
    expect(first.status).toBe(303);
    const device = { fs_admin_device: first.cookies["fs_admin_device"]! };

    // A guesser: three failures on the account, then held back unchecked, even with the right password.
    for (let i = 0; i < 3; i++) expect((await signIn({ login: "carol", password: `guess ${i}` }, {}, app.url)).status).toBe(401);
    const held = await signIn(good, {}, app.url);
    expect(held.status).toBe(429);
    expect(Number(held.retryAfter)).toBeGreaterThan(50);
    const { rows } = await stack.db.pool.query("SELECT account, count(*)::int AS n FROM admin_login_failures GROUP BY account");
    expect(rows).toEqual([{ account: "carol", n: 3 }]);

    // Carol's own browser is still let in with her password, on any instance.
    expect((await signIn(good, device, app.url)).status).toBe(303);
    expect((await signIn(good, device)).status).toBe(303);

    // The address's count too: past its threshold, any sign-in from it without a device cookie waits.
    for (let i = 0; i < 3; i++) await signIn({ login: `nobody-${i}`, password: "x" }, {}, app.url);
    expect((await signIn({ token: TEST_ADMIN_TOKEN }, {}, app.url)).status).toBe(429);
    // A wrong password with the device cookie drops it: no unlimited guesses through it.
    expect((await signIn({ login: "carol", password: "guess 9" }, device, app.url)).status).toBe(401);
    expect((await signIn(good, device, app.url)).status).toBe(429);
  });
});

describe("the bootstrap token", () => {
  it("acts as the admin `bootstrap` and, turned off, is refused, its sessions with it", async () => {
    const session = (await signIn({ token: TEST_ADMIN_TOKEN })).cookies["fs_admin_session"];
    // Whatever the throttle held back above, the session made here is the bootstrap's.
    await stack.db.pool.query("DELETE FROM admin_login_failures");
    const made = session ?? (await signIn({ token: TEST_ADMIN_TOKEN })).cookies["fs_admin_session"]!;
    expect((await sessionCall("GET", "/admin/api/me", made)).body).toMatchObject({ kind: "bootstrap", actor: "bootstrap", role: "admin" });
    const off = await serveAnother(false);
    expect((await call("GET", "/admin/api/sales", TEST_ADMIN_TOKEN, undefined, {}, off.url)).status).toBe(401);
    const viaOff = await fetch(`${off.url}/admin/api/me`, { headers: { cookie: `fs_admin_session=${made}` } });
    expect(viaOff.status).toBe(401);
    // A token still works there.
    const token = await mint("after-bootstrap", "viewer");
    expect((await call("GET", "/admin/api/me", token, undefined, {}, off.url)).body).toMatchObject({ actor: "token:after-bootstrap" });
  });
});
