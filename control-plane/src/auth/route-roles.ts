/**
 * The one table of who may call which admin API route: the least role of each (roles.ts). The
 * admin check (auth/admin-auth.ts) applies it to every request under /admin/api; a route the
 * table does not name is for admins only, and a test lists the app's routes against it.
 */
import type { Request } from "express";
import type { Role } from "./roles";

export interface RouteRule {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Express' syntax: `:name` is one path segment. */
  path: string;
  role: Role;
}

export const ROUTE_ROLES: readonly RouteRule[] = [
  { method: "GET", path: "/admin/api/me", role: "viewer" },
  { method: "GET", path: "/admin/api/sales", role: "viewer" },
  { method: "GET", path: "/admin/api/sales-stats", role: "viewer" },
  { method: "GET", path: "/admin/api/sales/:id", role: "viewer" },
  { method: "GET", path: "/admin/api/sales/:id/traffic", role: "viewer" },
  { method: "GET", path: "/admin/api/sales/:id/audit", role: "viewer" },
  { method: "GET", path: "/admin/api/sales/:id/orders", role: "viewer" },
  { method: "GET", path: "/admin/api/sales/:id/orders.csv", role: "viewer" },
  { method: "GET", path: "/admin/api/sales/:id/report", role: "viewer" },
  { method: "GET", path: "/admin/api/sales/:id/report.csv", role: "viewer" },
  // A new sale is one not yet started; once started, only an admin changes it (api/sale-routes.ts).
  { method: "POST", path: "/admin/api/sales", role: "operator" },
  { method: "PATCH", path: "/admin/api/sales/:id", role: "operator" },
  { method: "POST", path: "/admin/api/sales/:id/pause", role: "operator" },
  { method: "POST", path: "/admin/api/sales/:id/resume", role: "operator" },
  { method: "POST", path: "/admin/api/sales/:id/end", role: "operator" },
  { method: "POST", path: "/admin/api/sales/:id/publish", role: "admin" },
  { method: "DELETE", path: "/admin/api/sales/:id", role: "admin" },
  { method: "GET", path: "/admin/api/webhooks", role: "operator" },
  { method: "GET", path: "/admin/api/webhooks/:id", role: "operator" },
  { method: "GET", path: "/admin/api/webhooks/:id/deliveries", role: "operator" },
  { method: "POST", path: "/admin/api/webhooks", role: "admin" },
  { method: "PATCH", path: "/admin/api/webhooks/:id", role: "admin" },
  { method: "DELETE", path: "/admin/api/webhooks/:id", role: "admin" },
  { method: "POST", path: "/admin/api/webhooks/:id/replay", role: "admin" },
  { method: "POST", path: "/admin/api/webhooks/:id/rotate-secret", role: "admin" },
  { method: "GET", path: "/admin/api/operators", role: "viewer" },
  { method: "POST", path: "/admin/api/operators", role: "admin" },
  { method: "PATCH", path: "/admin/api/operators/:id", role: "admin" },
  { method: "DELETE", path: "/admin/api/operators/:id", role: "admin" },
  // A token is minted at most at its maker's role; a non-admin revokes only its own (api/identity-routes.ts).
  { method: "GET", path: "/admin/api/tokens", role: "viewer" },
  { method: "POST", path: "/admin/api/tokens", role: "viewer" },
  { method: "DELETE", path: "/admin/api/tokens/:id", role: "viewer" },
  { method: "GET", path: "/admin/api/sessions", role: "viewer" },
  { method: "DELETE", path: "/admin/api/sessions/:id", role: "admin" },
];

/** The least role that changes a sale that has started; PATCH's rule above is for one not yet started. */
export const CHANGE_STARTED_SALE_ROLE: Role = "admin";

function pattern(path: string): RegExp {
  const source = path
    .split("/")
    .map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}/?$`);
}

const COMPILED = ROUTE_ROLES.map((rule) => ({ rule, pattern: pattern(rule.path) }));

/** The rule of a call; HEAD is a GET. */
export function ruleFor(method: string, path: string): RouteRule | undefined {
  const m = method === "HEAD" ? "GET" : method;
  return COMPILED.find((c) => c.rule.method === m && c.pattern.test(path))?.rule;
}

/** The least role the request needs: its rule's, or admin where none is written. */
export function roleNeeded(req: Request): Role {
  return ruleFor(req.method, req.path)?.role ?? "admin";
}
