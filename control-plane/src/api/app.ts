/**
 * The control plane's HTTP app: the admin API, behind an operator's session, an API token or the
 * bootstrap token, each route for the roles auth/route-roles.ts allows it,
 * the admin UI (/admin), a health check, and the payment provider's webhook (signed, not
 * behind the token) when a secret is configured.
 */
import express, { type Express } from "express";
import type { Logger, Pool, Redis } from "@flash-sale/node-common";
import { mountAdminUi } from "./admin-ui-routes";
import { LOGIN_THROTTLE_DEFAULTS, LoginThrottle, type LoginThrottleOptions } from "../auth/login-throttle";
import { AdminOidc, type AdminOidcSettings } from "../auth/oidc";
import { AdminSessions } from "../auth/sessions";
import type { Fault } from "../faults";
import { requireAdmin } from "../auth/admin-auth";
import { ApiError, errorHandler, notFound } from "./api-error";
import { serveOpenApi } from "./openapi";
import { ADMIN_API_PATH, consoleRoutes } from "./console-routes";
import { SalePublisher } from "../projection/publisher";
import { SaleBuilder } from "../projection/sale-builder";
import { SaleRepository } from "../store/sale-repository";
import { saleRoutes } from "./sale-routes";
import { ControlPlaneMetrics } from "../metrics";
import { ApiTokens } from "../auth/api-tokens";
import { OperatorStore } from "../auth/operator-store";
import { identityRoutes } from "./identity-routes";
import { WEBHOOK_PATH, paymentWebhook, webhookBody, type WebhookSettings } from "./payment-webhook-route";
import type { SaleDefaults } from "../sales/schema";
import { WEBHOOKS_PATH, webhookRoutes } from "./webhook-routes";

export interface AdminAppDeps {
  pool: Pool;
  redis: Redis;
  /** FS_ADMIN_TOKEN, the bootstrap credential; undefined: turned off. */
  adminToken: string | undefined;
  /** FS_ADMIN_COOKIE_SECURE: the admin UI is served over TLS (a proxy in front). */
  secureCookies?: boolean;
  /** Sign-in through the shop's OpenID provider (FS_ADMIN_OIDC_*); absent: none. */
  oidc?: Omit<AdminOidcSettings, "secureCookies">;
  /** The sign-in throttle's thresholds and waits (tests); its defaults when absent. */
  loginThrottle?: LoginThrottleOptions;
  /** The gateway's Prometheus text (FS_GATEWAY_METRICS_URL), for the live page's requests. */
  gatewayMetricsUrl: string;
  defaults: SaleDefaults;
  logger: Logger;
  /** Absent: no webhook route. */
  paymentWebhook?: WebhookSettings;
  /** Shared with the jobs of the same process; made here when absent (tests). */
  metrics?: ControlPlaneMetrics;
  /** Test-only fault injection (faults.ts). */
  fault?: Fault;
  /** The shop's webhook endpoints (FS_WEBHOOK_ALLOW_PRIVATE_URLS); private addresses refused when absent. */
  webhooks?: { allowPrivateUrls: boolean };
}

const BODY_LIMIT = "64kb";
/** Where the sale routes are mounted. */
export const SALES_PATH = "/admin/api/sales";

export function createAdminApp({
  pool,
  redis,
  adminToken,
  secureCookies = false,
  oidc,
  loginThrottle = LOGIN_THROTTLE_DEFAULTS,
  gatewayMetricsUrl,
  defaults,
  logger,
  paymentWebhook: webhook,
  metrics = new ControlPlaneMetrics(redis, pool),
  fault,
  webhooks,
}: AdminAppDeps): Express {
  const repository = new SaleRepository(pool);
  const publisher = new SalePublisher(redis, repository, new SaleBuilder(redis, repository, logger, (sale, reason) => metrics.saleBuilt(sale, reason)));
  const app = express();
  app.disable("x-powered-by");

  // Before the token check, so that probes need no secret; it tells nothing but up or down.
  app.get("/healthz", async (_req, res) => {
    try {
      await Promise.all([redis.ping(), pool.query("SELECT 1")]);
    } catch (err) {
      logger.warn({ err }, "health check failed");
      throw new ApiError("unavailable", "Redis or Postgres is unreachable.");
    }
    res.json({ status: "ok" });
  });

  // Prometheus scrapes without the admin token: the admin listener is internal (127.0.0.1 by
  // default), and the metrics hold counts, never shopper data.
  app.get("/metrics", async (_req, res) => {
    const text = await metrics.scrape();
    res.type(metrics.registry.contentType).send(text);
  });

  // The API document is public knowledge (the contract), so it needs no token either.
  app.get("/openapi.yaml", serveOpenApi());

  // The provider signs its calls (HMAC) and holds no admin token.
  if (webhook !== undefined) app.post(WEBHOOK_PATH, webhookBody, paymentWebhook({ redis, repository, logger, ...webhook }));

  // Its pages ask for a login themselves; its API calls go through the check below.
  const credentials = { bootstrapToken: adminToken, tokens: new ApiTokens(pool), sessions: new AdminSessions(pool, adminToken !== undefined, secureCookies) };
  const operators = new OperatorStore(pool);
  mountAdminUi(app, {
    credentials,
    operators,
    throttle: new LoginThrottle(pool, loginThrottle, secureCookies),
    oidc: oidc === undefined ? undefined : new AdminOidc({ ...oidc, secureCookies }),
    logger,
  });

  // The identity and its role (auth/route-roles.ts) are checked before the body is read.
  app.use(requireAdmin(credentials));
  app.use(express.json({ limit: BODY_LIMIT }));
  app.use(ADMIN_API_PATH, identityRoutes({ operators, tokens: credentials.tokens, sessions: credentials.sessions, logger }));
  app.use(ADMIN_API_PATH, consoleRoutes({ pool, redis, repository, logger }));
  app.use(SALES_PATH, saleRoutes({ pool, repository, publisher, redis, defaults, logger, gatewayMetricsUrl, fault }));
  app.use(WEBHOOKS_PATH, webhookRoutes({ pool, logger, allowPrivateUrls: webhooks?.allowPrivateUrls ?? false }));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
