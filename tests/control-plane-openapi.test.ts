/**
 * openapi.yaml against the running routes: the control plane serves it; every operation it lists
 * answers on the control plane (admin) or the gateway (shopper); every admin route the control
 * plane has is listed; and neither the admin API nor the payment webhook is reachable through the gateway.
 */
import { readFileSync } from "node:fs";
import type { Router } from "express";
import { SALES_PATH } from "../control-plane/src/api/app";
import { ADMIN_API_PATH } from "../control-plane/src/api/console-routes";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { request } from "./support/http";
import type { ServedApp } from "./support/admin-app";
import { ADMIN_UI_LOGIN, ADMIN_UI_LOGOUT, ADMIN_UI_PAGES } from "../control-plane/src/api/admin-ui-routes";
import { SETTING_NAMES } from "../control-plane/src/sales/fields";
import { WEBHOOKS_PATH } from "../control-plane/src/api/webhook-routes";
import { OPENAPI_FILE } from "../control-plane/src/api/openapi";
import { openApiDocument } from "./support/openapi";

const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
const DOCUMENT = readFileSync(OPENAPI_FILE, "utf8");
const API = openApiDocument();

let server: ServedApp;
/** The API's routers with where api/app.ts mounts them, in its order: the identities', the console's, the sales', the webhooks'. */
let apiRouters: { mount: string; router: Router }[];
/** Paths of the routes on the app itself, not in a router (the admin UI's pages, health, …). */
let appRoutes: string[];

interface Operation {
  method: string;
  path: string;
}

const METHODS = ["get", "put", "post", "patch", "delete"];

/** The operations the document lists. */
function documentedOperations(): Operation[] {
  return Object.entries(API.paths).flatMap(([p, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => ({ method: m.toUpperCase(), path: p })));
}

/** "/a/{saleId}" and "/a/:id" alike: parameters as "{}". */
function shape(p: string): string {
  return p.replace(/\{[^}]+\}|:[A-Za-z]+/g, "{}").replace(/\/$/, "");
}

function key(op: Operation): string {
  return `${op.method} ${shape(op.path)}`;
}

/** A concrete URL path for a documented one: each parameter filled with a made-up id. */
function concrete(p: string): string {
  return p.replace(/\{[^}]+\}/g, "no-such-thing");
}

const stack = useStack(new TestStack({ name: "control_plane_openapi", controlPlane: false }), async () => {
  server = await stack.serveAdminApp({
    adminToken: ADMIN_TOKEN,
    paymentWebhook: { secret: "openapi-test-webhook-secret-0123456789", skewSeconds: 300 },
  });
  const { app } = server;
  const routers = (app.router.stack as { handle: { stack?: unknown } }[]).filter((l) => Array.isArray(l.handle.stack));
  const mounts = [ADMIN_API_PATH, ADMIN_API_PATH, SALES_PATH, WEBHOOKS_PATH];
  if (routers.length !== mounts.length) throw new Error(`expected ${mounts.length} routers under the app, found ${routers.length}`);
  apiRouters = routers.map((l, i) => ({ mount: mounts[i]!, router: l.handle as unknown as Router }));
  appRoutes = (app.router.stack as { route?: { path: string | string[] } }[]).flatMap((l) => (l.route === undefined ? [] : [l.route.path].flat()));
});

const operations = documentedOperations();
const adminOperations = operations.filter(
  (op) => op.path.startsWith("/admin/") || op.path.startsWith("/payments/") || op.path === "/openapi.yaml",
);
const shopperOperations = operations.filter((op) => op.path.startsWith("/api/"));

test("the document lists operations of both APIs", () => {
  expect(adminOperations.length).toBeGreaterThanOrEqual(10);
  expect(shopperOperations.length).toBeGreaterThanOrEqual(4);
  expect(adminOperations.length + shopperOperations.length).toBe(operations.length);
});

test("SaleSettings lists the sale's settings (control-plane/src/sales/fields.ts) and the id, nothing else", () => {
  expect(Object.keys((API.components.schemas["SaleSettings"] as { properties: object }).properties).sort()).toEqual(["id", ...SETTING_NAMES].sort());
});

test("the control plane serves the document, without a token", async () => {
  const res = await fetch(`${server.url}/openapi.yaml`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/yaml/);
  expect(await res.text()).toBe(DOCUMENT);
});

test("every admin route of the control plane is in the document, and nothing else under /admin", () => {
  const running: string[] = [];
  for (const { mount, router } of apiRouters) {
    for (const layer of router.stack) {
      if (layer.route === undefined) continue;
      const route = layer.route as unknown as { path: string; methods: Record<string, boolean> };
      for (const method of Object.keys(route.methods)) running.push(key({ method: method.toUpperCase(), path: mount + route.path }));
    }
  }
  const documented = adminOperations.filter((op) => op.path.startsWith("/admin/")).map(key);
  expect(running.sort()).toEqual(documented.sort());
});

// The admin UI's HTML pages are for browsers, not part of the API: deliberately not in the document.
test("the only routes under /admin outside the document are the admin UI's pages", () => {
  const underAdmin = appRoutes.filter((p) => p.startsWith("/admin")).sort();
  expect(underAdmin).toEqual([...ADMIN_UI_PAGES, ADMIN_UI_LOGIN, ADMIN_UI_LOGIN, ADMIN_UI_LOGOUT].sort());
});

test.each(adminOperations.map((op) => [op.method, op.path] as const))(
  "%s %s answers on the control plane (a route, not not_found / method_not_allowed)",
  async (method, p) => {
    const res = await fetch(server.url + concrete(p), {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: method === "GET" || method === "DELETE" ? undefined : "{}",
    });
    const text = await res.text();
    const error = res.headers.get("content-type")?.includes("json") ? (JSON.parse(text) as { error?: string }).error : undefined;
    expect(["not_found", "method_not_allowed"]).not.toContain(error);
    expect(res.status).toBeLessThan(500);
  },
);

test.each(shopperOperations.map((op) => [op.method, op.path] as const))(
  "%s %s answers on the gateway (a route, not not_found / method_not_allowed)",
  async (method, p) => {
    const res = await request(stack.gateway.url + concrete(p), {
      method,
      headers: { "Content-Type": "application/json" },
      body: method === "POST" ? "{}" : undefined,
    });
    expect(["not_found", "method_not_allowed"]).not.toContain(res.json().error);
    expect(res.status).toBeLessThan(500);
  },
);

test("the admin API and the payment webhook are not reachable through the gateway, even with the admin token", async () => {
  const marker = "Marker Sale 7f3a";
  const created = await fetch(`${server.url}/admin/api/sales`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ id: "marker", name: marker, price: 1, stock: 1, deduction: "order", startsAt: "2030-01-01T00:00:00Z", endsAt: "2030-01-02T00:00:00Z" }),
  });
  expect(created.status).toBe(201);
  for (const op of adminOperations.filter((o) => o.path.startsWith("/admin/") || o.path.startsWith("/payments/"))) {
    const res = await request(stack.gateway.url + op.path.replace(/\{[^}]+\}/g, "marker"), {
      method: op.method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: op.method === "GET" || op.method === "DELETE" ? undefined : "{}",
    });
    // Whatever the gateway answers for a path it does not route, it is refused and no admin answer.
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.text).not.toContain(marker);
  }
  expect((await fetch(`${server.url}/admin/api/sales/marker`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
});
