/**
 * The admin UI at /admin: HTML pages and the browser bundle, on the control plane only. The
 * pages call the admin JSON API with the session cookie (see auth/admin-auth.ts).
 */
import path from "node:path";
import express, { type Express } from "express";
import type { Logger } from "@flash-sale/node-common";
import { ApiError } from "./api-error";
import { LoginThrottle } from "../auth/login-throttle";
import { appShell, continuePage, loginPage } from "./admin-ui-pages";
import { tokenIdentity, type AdminCredentials } from "../auth/admin-auth";
import { decoyHash, noPasswordMatches, passwordMatches, totpStep } from "../auth/credentials";
import type { OperatorStore } from "../auth/operator-store";
import { OIDC_CALLBACK, OIDC_START, type AdminOidc } from "../auth/oidc";
import { sessionAllows, type SessionOwner } from "../auth/sessions";

/** The bundle and stylesheet, built by scripts/build.sh (esbuild). */
export const ADMIN_UI_ASSETS_DIR = path.resolve(__dirname, "../../build/ui");
/** The pages the bundle renders; anything else under /admin is the JSON API. */
export const ADMIN_UI_PAGES = ["/admin", "/admin/sales/new", "/admin/sales/:id", "/admin/sales/:id/edit", "/admin/sales/:id/orders", "/admin/sales/:id/report", "/admin/tokens", "/admin/operators", "/admin/sessions", "/admin/webhooks"];
export const ADMIN_UI_LOGIN = "/admin/login";
export const ADMIN_UI_LOGOUT = "/admin/logout";
/** Browsers ask for it on their own; answered without a session so that no page logs a 401. */
export const FAVICON = "/favicon.ico";

/** Only our own origin, for scripts, styles, images and fetches alike; no framing. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/** The token form names no account: its failures count by address only, so nobody's guesses hold back everyone's token. */
const TOKEN_ACCOUNT = "";

export interface AdminUiDeps {
  credentials: AdminCredentials;
  operators: OperatorStore;
  throttle: LoginThrottle;
  /** Sign-in through the shop's OpenID provider; absent: local accounts and tokens only. */
  oidc?: AdminOidc;
  logger: Logger;
}

export function mountAdminUi(app: Express, { credentials, operators, throttle, oidc, logger }: AdminUiDeps): void {
  const { sessions } = credentials;
  // Made now, so that the first sign-in of no account does not take a hash longer.
  void decoyHash();

  async function tokenOwner(token: string): Promise<SessionOwner | undefined> {
    const identity = token === "" ? undefined : await tokenIdentity(token, credentials);
    if (identity === undefined) return undefined;
    return identity.kind === "token" ? { kind: "token", tokenId: identity.tokenId } : { kind: "bootstrap" };
  }

  /**
   * A local account: enabled, its password, and its TOTP code where it has one (every admin), a
   * code taken once. Whatever is missing, a password is checked: no timing tells names apart.
   */
  async function localOwner(login: string, password: string, code: string): Promise<SessionOwner | undefined> {
    const operator = login === "" ? undefined : await operators.findByLogin(login);
    if (operator === undefined || operator.disabled || operator.passwordHash === null) {
      await noPasswordMatches(password);
      return undefined;
    }
    if (!(await passwordMatches(operator.passwordHash, password))) return undefined;
    if (operator.totpSecret !== null) {
      const step = totpStep(operator.totpSecret, code);
      if (step === undefined || !(await operators.takeTotpStep(operator.id, step))) return undefined;
    }
    return { kind: "operator", operatorId: Number(operator.id) };
  }

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
    res.type("html").send(loginPage(oidc !== undefined));
  });
  app.post(ADMIN_UI_LOGIN, express.urlencoded({ extended: false, limit: "4kb" }), async (req, res) => {
    const address = req.ip ?? "";
    const form = (req.body ?? {}) as Record<string, unknown>;
    const field = (key: string): string => (typeof form[key] === "string" ? form[key] : "");
    const byToken = form["token"] !== undefined;
    const account = byToken ? TOKEN_ACCOUNT : field("login").toLowerCase();
    const retryAfter = await throttle.retryAfterSeconds(req, address, account);
    if (retryAfter > 0) {
      const message = `Too many failed sign-ins; try again in ${retryAfter} s.`;
      res.set("Retry-After", String(retryAfter));
      // The login form is a page: a browser gets the page back, a script the catalogue's JSON.
      if (req.accepts(["html", "json"]) !== "html") throw new ApiError("rate_limited", message, { retryAfter });
      res.status(429).type("html").send(loginPage(oidc !== undefined, message));
      return;
    }
    const owner = byToken ? await tokenOwner(field("token")) : await localOwner(field("login"), field("password"), field("code"));
    if (owner === undefined) {
      await throttle.recordFailure(req, address, account);
      res.status(401).type("html").send(loginPage(oidc !== undefined, byToken ? "That token is not valid." : "Wrong name, password or code."));
      return;
    }
    await throttle.recordSuccess(req, res, address, account);
    await sessions.start(res, owner, address);
    res.redirect(303, "/admin");
  });
  if (oidc !== undefined) {
    app.get(OIDC_START, async (_req, res) => {
      res.redirect(303, (await oidc.start(res)).href);
    });
    app.get(OIDC_CALLBACK, async (req, res) => {
      const refuse = (message: string): void => {
        res.status(403).type("html").send(loginPage(true, message));
      };
      let claims;
      try {
        claims = await oidc.finish(req, res);
      } catch (err) {
        logger.warn({ err }, "OpenID sign-in refused");
        refuse("The identity provider's answer could not be verified; sign in again.");
        return;
      }
      const operator = await operators.findByOidc(claims.subject, claims.email);
      if (operator === undefined || operator.disabled || claims.role === null) {
        logger.warn({ subject: claims.subject, email: claims.email, operator: operator?.name }, "OpenID sign-in of no enabled operator");
        refuse("This account is not an enabled operator here; ask an admin.");
        return;
      }
      if (claims.role !== undefined && claims.role !== operator.role) await operators.setRole(operator.id, claims.role);
      await sessions.start(res, { kind: "operator", operatorId: Number(operator.id) }, req.ip ?? "");
      res.type("html").send(continuePage("/admin"));
    });
  }
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
    res.set("Cache-Control", "no-store").type("html").send(appShell(session.csrfToken, session.identity));
  });
}
