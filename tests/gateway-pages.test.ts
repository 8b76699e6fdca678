/**
 * The shopper pages as the gateway serves them: routes, cache headers on pages (short), assets
 * (a year, content-hashed names) and JSON (per the contract), the 404 page for other paths, the
 * public sale list, the session, and the development login, which exists only when the knob
 * dev_login is on.
 */
import { createHash } from "node:crypto";
import { Gateway, LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { snapshot } from "./support/counts";
import { request } from "./support/http";
import { signToken } from "./support/tokens";

let devGateway: Gateway;

const stack = useStack(new TestStack({ name: "pages", knobs: LOAD_TEST_KNOBS }), async () => {
  devGateway = await stack.startGateway({ ...LOAD_TEST_KNOBS, dev_login: "on" });
  const now = Date.now();
  await stack.controlPlane.createSale({ id: "pages-open", name: "Open sale", stock: 5, challenge: true });
  await stack.controlPlane.createSale({
    id: "pages-later",
    name: "Later sale",
    stock: 7,
    startsAt: new Date(now + 3_600_000).toISOString(),
    endsAt: new Date(now + 7_200_000).toISOString(),
  });
  for (const id of ["pages-open", "pages-later"]) await waitForSale(stack.gateway, id);
});

const HTML_CACHE = "public, max-age=60";
const ASSET_CACHE = "public, max-age=31536000, immutable";

describe("pages", () => {
  test.each([
    ["/", "index-page"],
    ["/sales/pages-open", "sale-page"],
    ["/sales/any-sale-id", "sale-page"],
    ["/orders/pages-open.1.1", "order-page"],
    ["/orders", "orders-page"],
  ])("%s is its static page, cached for a minute, scripts from this origin only, with a <noscript> notice", async (url, entry) => {
    const res = await request(`${stack.gateway.url}${url}`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.headers["cache-control"]).toBe(HTML_CACHE);
    expect(res.headers["content-security-policy"]).toMatch(/default-src 'self'/);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.text).toMatch(new RegExp(`<script type="module" src="/assets/${entry}\\.[0-9a-f]{12}\\.js"></script>`));
    // Nothing from elsewhere: every src and href is a path on this origin (or inline data).
    for (const [, link] of res.text.matchAll(/(?:src|href)="([^"]*)"/g)) expect(link).toMatch(/^(\/|#|data:)/);
    expect(res.text).toMatch(/<noscript><p class="notice">[^<]*JavaScript[^<]*<\/p><\/noscript>/);
  });

  test("every asset a page names is served under its content hash, cached for a year", async () => {
    const html = (await request(`${stack.gateway.url}/sales/pages-open`)).text;
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      const res = await request(`${stack.gateway.url}${asset}`);
      expect(res.status).toBe(200);
      expect(res.headers["cache-control"]).toBe(ASSET_CACHE);
      expect(res.headers["content-type"]).toMatch(asset.endsWith(".css") ? /^text\/css/ : /^application\/javascript/);
      const hash = /\.([0-9a-f]{12})\.(js|css)$/.exec(asset)![1];
      expect(createHash("sha256").update(res.text).digest("hex").slice(0, 12)).toBe(hash);
    }
  });

  test.each(["/favicon.ico", "/no/such/page", "/orders/pages-open.1", "/orders/Not.An.Order", "/sales/Bad_Id", "/404.html"])(
    "%s is the 404 page: HTML, status 404, nothing from elsewhere, and nginx logs no error for it",
    async (url) => {
      const res = await request(`${stack.gateway.url}${url}`);
      expect(res.status).toBe(404);
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.headers["content-security-policy"]).toMatch(/default-src 'self'/);
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.text).toMatch(/<h1>Page not found<\/h1>/);
      for (const [, link] of res.text.matchAll(/(?:src|href)="([^"]*)"/g)) expect(link).toMatch(/^(\/|#|data:)/);
      expect(stack.gateway.errorLines()).toEqual([]);
    },
  );

  test("an unknown API path keeps the catalogue's JSON 404", async () => {
    const res = await request(`${stack.gateway.url}/api/no-such-route`);
    expect([res.status, res.headers["content-type"], res.json().error]).toEqual([404, "application/json", "not_found"]);
  });

  test("an asset that does not exist is a 404 that nobody caches for a year", async () => {
    const res = await request(`${stack.gateway.url}/assets/nope.0123456789ab.js`);
    expect(res.status).toBe(404);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.json().error).toBe("not_found");
  });
});

describe("JSON", () => {
  test("time: never cached; a sale and the list: a second; a challenge: never", async () => {
    expect((await request(`${stack.gateway.url}/api/time`)).headers["cache-control"]).toBe("no-store");
    expect((await request(`${stack.gateway.url}/api/sales/pages-open`)).headers["cache-control"]).toBe("public, max-age=1");
    expect((await request(`${stack.gateway.url}/api/sales`)).headers["cache-control"]).toBe("public, max-age=1");
    const challenge = await request(`${stack.gateway.url}/api/sales/pages-open/challenge`, {
      method: "POST",
      headers: { Authorization: `Bearer ${signToken("pages-shopper")}` },
    });
    expect(challenge.status).toBe(200);
    expect(challenge.headers["cache-control"]).toBe("no-store");
  });

  test("GET /api/sales lists the published sales, soonest first, in the public view", async () => {
    const res = await request(`${stack.gateway.url}/api/sales`);
    expect(res.status).toBe(200);
    const sales = res.json().sales as { id: string; status: string; challenge: boolean; stock: { total: number; left: number } }[];
    expect(sales.map((s) => [s.id, s.status, s.challenge, s.stock.total])).toEqual([
      ["pages-open", "active", true, 5],
      ["pages-later", "upcoming", false, 7],
    ]);
    expect(await request(`${stack.gateway.url}/api/sales`, { method: "POST" }).then((r) => r.status)).toBe(405);
  });
});

describe("the session", () => {
  test("says who is logged in and how to log in: the shop's login page while the demo login is off; never cached", async () => {
    const anonymous = await request(`${stack.gateway.url}/api/session`);
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers["cache-control"]).toBe("no-store");
    expect(anonymous.json()).toEqual({ loggedIn: false, demoLogin: false, loginUrl: "https://shop.example/login?return={return}" });
    const known = await request(`${stack.gateway.url}/api/session`, { headers: { Authorization: `Bearer ${signToken("pages-shopper")}` } });
    expect(known.json()).toEqual({ loggedIn: true, user: "pages-shopper", demoLogin: false, loginUrl: "https://shop.example/login?return={return}" });
    expect((await request(`${stack.gateway.url}/api/session`, { headers: { Authorization: "Bearer not.a.token" } })).json()).toMatchObject({ loggedIn: false });
  });

  test("with dev_login = on, it offers the demo login", async () => {
    expect((await request(`${devGateway.url}/api/session`)).json()).toMatchObject({ loggedIn: false, demoLogin: true });
  });

  test("DELETE logs out: the fs_token cookie is cleared, and the session says logged out", async () => {
    const login = await request(`${devGateway.url}/api/dev/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"user":"leaving-shopper"}' });
    const cookie = login.headers["set-cookie"]![0]!.split(";")[0]!;
    expect((await request(`${devGateway.url}/api/session`, { headers: { Cookie: cookie } })).json()).toMatchObject({ loggedIn: true, user: "leaving-shopper" });
    const out = await request(`${devGateway.url}/api/session`, { method: "DELETE", headers: { Cookie: cookie } });
    expect(out.status).toBe(200);
    expect(out.headers["cache-control"]).toBe("no-store");
    expect(out.headers["set-cookie"]).toEqual(["fs_token=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"]);
    expect(out.json()).toEqual({ loggedIn: false, demoLogin: true, loginUrl: expect.any(String) });
  });
});

describe("development login", () => {
  test("is off by default: no route, nothing signed", async () => {
    const before = await snapshot(stack.redis, stack.db.pool);
    const res = await request(`${stack.gateway.url}/api/dev/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"user":"mallory"}',
    });
    expect(res.status).toBe(404);
    expect(res.json().error).toBe("not_found");
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(await snapshot(stack.redis, stack.db.pool)).toBe(before);
  });

  test("with dev_login = on, it sets an HttpOnly fs_token cookie the gateway accepts", async () => {
    const res = await request(`${devGateway.url}/api/dev/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"user":"demo-shopper"}',
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ user: "demo-shopper" });
    const cookie = res.headers["set-cookie"]![0]!;
    expect(cookie).toMatch(/^fs_token=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; Max-Age=86400; HttpOnly; SameSite=Strict$/);
    const token = cookie.split(";")[0]!;
    // Logged in: an order that is not ours is 404, where no token is 401.
    expect((await request(`${devGateway.url}/api/orders/pages-open.1`)).status).toBe(401);
    const mine = await request(`${devGateway.url}/api/orders/pages-open.1`, { headers: { Cookie: token } });
    expect(mine.json().error).toBe("order_not_found");
  });

  test.each([
    ["no user", "{}"],
    ["an empty user", '{"user":""}'],
    ["a user with a space", '{"user":"a b"}'],
    ["not JSON", "user=x"],
  ])("refuses %s: 400", async (_name, body) => {
    const res = await request(`${devGateway.url}/api/dev/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
    });
    expect(res.status).toBe(400);
    expect(res.json().error).toBe("bad_request");
    expect(res.headers["set-cookie"]).toBeUndefined();
  });
});
