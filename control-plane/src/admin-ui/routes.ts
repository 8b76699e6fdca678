/**
 * The admin UI at /admin: HTML pages and the browser bundle, on the control plane only. The
 * pages call the admin JSON API with the session cookie (see http/admin-auth.ts).
 */
import path from "node:path";
import express, { type Express } from "express";
import { ApiError } from "../http/api-error";
import { LoginThrottle } from "./login-throttle";
import { appShell, loginPage } from "./pages";
import { sameSecret, sessionAllows, type AdminSessions } from "./sessions";

/** The bundle and stylesheet, built by scripts/build.sh (esbuild). */
export const ADMIN_UI_ASSETS_DIR = path.resolve(__dirname, "../../build/ui");
/** The pages the bundle renders; anything else under /admin is the JSON API. */
export const ADMIN_UI_PAGES = ["/admin", "/admin/sales/new", "/admin/sales/:id", "/admin/sales/:id/edit", "/admin/sales/:id/orders"];
export const ADMIN_UI_LOGIN = "/admin/login";
export const ADMIN_UI_LOGOUT = "/admin/logout";
/** Browsers ask for it on their own; answered without a session so that no page logs a 401. */
export const FAVICON = "/favicon.ico";

/** Only our own origin, for scripts, styles, images and fetches alike; no framing. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

export function mountAdminUi(app: Express, adminToken: string, sessions: AdminSessions, throttle: LoginThrottle): void {
  app.use("/admin", (_req, res, next) => {
    res.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    next();
  });
  // A missing file is a 404 and a bad %-encoding a 400 (api-error.ts), before any session check.
  app.use("/admin/assets", express.static(ADMIN_UI_ASSETS_DIR, { fallthrough: false, index: false }));
  app.get(FAVICON, (_req, res) => {
    res.set("Cache-Control", "public, max-age=86400").type("image/svg+xml").sendFile(path.join(ADMIN_UI_ASSETS_DIR, "favicon.svg"));
  });

  app.get(ADMIN_UI_LOGIN, (_req, res) => {
    res.type("html").send(loginPage());
  });
  app.post(ADMIN_UI_LOGIN, express.urlencoded({ extended: false, limit: "4kb" }), async (req, res) => {
    const address = req.ip ?? "";
    const retryAfter = await throttle.retryAfterSeconds(address);
    if (retryAfter > 0) {
      const message = `Too many wrong tokens from this address; try again in ${retryAfter} s.`;
      res.set("Retry-After", String(retryAfter));
      // The login form is a page: a browser gets the page back, a script the catalogue's JSON.
      if (req.accepts(["html", "json"]) !== "html") throw new ApiError("rate_limited", message, { retryAfter });
      res.status(429).type("html").send(loginPage(message));
      return;
    }
    const token: unknown = (req.body as Record<string, unknown> | undefined)?.["token"];
    if (typeof token !== "string" || !sameSecret(token, adminToken)) {
      await throttle.recordFailure(address);
      res.status(401).type("html").send(loginPage("That is not the admin token."));
      return;
    }
    await throttle.recordSuccess(address);
    await sessions.start(res);
    res.redirect(303, "/admin");
  });
  app.post(ADMIN_UI_LOGOUT, async (req, res) => {
    const session = await sessions.find(req);
    // Without the page's CSRF token another site could log the operator out: refused.
    if (session !== undefined && !sessionAllows(req, session)) throw new ApiError("unauthorized", "Logging out needs the page's CSRF token.");
    if (session !== undefined) await sessions.end(req, res);
    res.status(204).end();
  });

  app.get(ADMIN_UI_PAGES, async (req, res) => {
    const session = await sessions.find(req);
    if (session === undefined) {
      res.redirect(303, ADMIN_UI_LOGIN);
      return;
    }
    res.set("Cache-Control", "no-store").type("html").send(appShell(session.csrfToken));
  });
}
