/**
 * The control plane's HTTP app: the admin API, behind the admin token or an admin UI session,
 * the admin UI (/admin), a health check, and the payment provider's webhook (signed, not
 * behind the token) when a secret is configured.
 */
import express, { type Express } from "express";
import type { Logger, Pool, Redis } from "@flash-sale/node-common";
import { mountAdminUi } from "./admin-ui/routes";
import { LoginThrottle } from "./admin-ui/login-throttle";
import { AdminSessions } from "./admin-ui/sessions";
import type { Fault } from "./faults";
import { requireAdminToken } from "./http/admin-auth";
import { ApiError, errorHandler, notFound } from "./http/api-error";
import { serveOpenApi } from "./http/openapi";
import { ADMIN_API_PATH, consoleRoutes } from "./sales/console-routes";
import { SalePublisher } from "./sales/publisher";
import { SaleBuilder } from "./sales/sale-builder";
import { SaleRepository } from "./sales/repository";
import { saleRoutes } from "./sales/routes";
import { ControlPlaneMetrics } from "./metrics";
import { WEBHOOK_PATH, paymentWebhook, webhookBody, type WebhookSettings } from "./payments/webhook-route";
import type { SaleDefaults } from "./sales/schema";
import { WEBHOOKS_PATH, webhookRoutes } from "./webhooks/routes";

export interface AdminAppDeps {
  pool: Pool;
  redis: Redis;
  adminToken: string;
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

export function createAdminApp({ pool, redis, adminToken, gatewayMetricsUrl, defaults, logger, paymentWebhook: webhook, metrics = new ControlPlaneMetrics(redis, pool), fault, webhooks }: AdminAppDeps): Express {
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
  const sessions = new AdminSessions(pool);
  mountAdminUi(app, adminToken, sessions, new LoginThrottle(pool));

  // The token (or session) is checked before the body is read.
  app.use(requireAdminToken(adminToken, sessions));
  app.use(express.json({ limit: BODY_LIMIT }));
  app.use(ADMIN_API_PATH, consoleRoutes({ pool, redis, repository, logger }));
  app.use(SALES_PATH, saleRoutes({ pool, repository, publisher, redis, defaults, logger, gatewayMetricsUrl, fault }));
  app.use(WEBHOOKS_PATH, webhookRoutes({ pool, logger, allowPrivateUrls: webhooks?.allowPrivateUrls ?? false }));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
