/** The control plane's HTTP app: the admin API, behind the admin token, and a health check. */
import express, { type Express } from "express";
import type { Logger, Pool, Redis } from "@flash-sale/node-common";
import { requireAdminToken } from "./http/admin-auth";
import { ApiError, errorHandler, notFound } from "./http/api-error";
import { SalePublisher } from "./sales/publisher";
import { SaleRepository } from "./sales/repository";
import { saleRoutes } from "./sales/routes";
import type { SaleDefaults } from "./sales/schema";

export interface AdminAppDeps {
  pool: Pool;
  redis: Redis;
  adminToken: string;
  defaults: SaleDefaults;
  logger: Logger;
}

const BODY_LIMIT = "64kb";

export function createAdminApp({ pool, redis, adminToken, defaults, logger }: AdminAppDeps): Express {
  const repository = new SaleRepository(pool);
  const publisher = new SalePublisher(redis, repository);
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

  // The token is checked before the body is read.
  app.use(requireAdminToken(adminToken));
  app.use(express.json({ limit: BODY_LIMIT }));
  app.use("/admin/api/sales", saleRoutes({ repository, publisher, redis, defaults, logger }));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
