/** The admin API's sale routes, under /admin/api/sales. */
import { Router } from "express";
import type { Logger, Pool, Redis } from "@flash-sale/node-common";
import type { Fault } from "../faults";
import { adminActor } from "./admin-actor";
import { ApiError } from "./api-error";
import { fieldErrors } from "./field-errors";
import { identityOf } from "../auth/identity";
import { CHANGE_STARTED_SALE_ROLE } from "../auth/route-roles";
import { atLeast } from "../auth/roles";
import { readAudit } from "../store/audit-log";
import { SaleChanges } from "../sales/changes";
import { readLiveStats } from "../projection/live-stats";
import type { SalePublisher } from "../projection/publisher";
import type { Sale, SaleRepository } from "../store/sale-repository";
import { invalidSale } from "../sales/sale-errors";
import { saleIdsFromName } from "../sales/sale-id";
import { saleInputSchema, type SaleDefaults, type SaleSettings } from "../sales/schema";
import { readSaleTraffic } from "../projection/traffic";

export interface SaleRoutesDeps {
  pool: Pool;
  repository: SaleRepository;
  publisher: SalePublisher;
  redis: Redis;
  defaults: SaleDefaults;
  logger: Logger;
  /** The gateway's Prometheus text, for a sale's requests by outcome. */
  gatewayMetricsUrl: string;
  /** Test-only fault injection (faults.ts). */
  fault?: Fault;
}

/** Ids tried for a sale the admin gave none; more than one only when names repeat. */
const GENERATED_ID_ATTEMPTS = 3;

export function saleRoutes({ pool, repository, publisher, redis, defaults, logger, gatewayMetricsUrl, fault }: SaleRoutesDeps): Router {
  const schema = saleInputSchema(defaults);
  const changes = new SaleChanges({ repository, publisher, schema, logger, fault });
  const router = Router();

  async function findSale(id: string): Promise<Sale> {
    const sale = await repository.find(id);
    if (sale === undefined) throw new ApiError("sale_not_found");
    return sale;
  }

  /** Stores the sale under its id, or under the first free id made from its name. */
  async function insertSale(settings: SaleSettings, actor: string): Promise<Sale> {
    const ids = settings.id !== undefined ? [settings.id] : saleIdsFromName(settings.name, GENERATED_ID_ATTEMPTS);
    for (const id of ids) {
      const sale = await repository.insert(id, settings, actor);
      if (sale !== undefined) return sale;
    }
    const message =
      settings.id !== undefined
        ? `"${settings.id}" is already taken; choose another id`
        : "no free id could be made from the name; give an id";
    throw invalidSale([{ path: "id", message }]);
  }

  router.get("/", async (_req, res) => {
    res.json({ sales: (await repository.list()).map((sale) => changes.view(sale)) });
  });

  router.post("/", async (req, res) => {
    const parsed = schema.safeParse(req.body);
    if (!parsed.success) throw invalidSale(fieldErrors(parsed.error));
    const created = await insertSale(parsed.data, adminActor(req));
    logger.info({ saleId: created.id }, "sale created");
    // A 503 from here on: saved and published in Postgres, applied once Redis answers.
    const { sale, version, built } = await changes.publish(created.id, adminActor(req));
    logger.info({ saleId: sale.id, version, built }, "sale published");
    res.status(201).location(`/admin/api/sales/${sale.id}`).json(sale);
  });

  router.get("/:id", async (req, res) => {
    const sale = await findSale(req.params.id);
    res.json({ ...changes.view(sale), stats: await readLiveStats(redis, pool, repository, sale.id, sale.stockBuckets) });
  });

  router.get("/:id/traffic", async (req, res) => {
    const sale = await findSale(req.params.id);
    res.json(await readSaleTraffic(redis, repository, gatewayMetricsUrl, sale.id, sale.stockBuckets));
  });

  router.patch("/:id", async (req, res) => {
    const sale = await changes.update(req.params.id, req.body, adminActor(req), atLeast(identityOf(req).role, CHANGE_STARTED_SALE_ROLE));
    logger.info({ saleId: sale.id, state: sale.state }, "sale updated");
    res.json(sale);
  });

  router.delete("/:id", async (req, res) => {
    await changes.delete(req.params.id, adminActor(req));
    logger.info({ saleId: req.params.id }, "sale deleted");
    res.status(204).end();
  });

  router.post("/:id/pause", async (req, res) => {
    const sale = await changes.setPaused(req.params.id, true, adminActor(req));
    logger.info({ saleId: sale.id, state: sale.state }, "sale paused");
    res.json(sale);
  });

  router.post("/:id/resume", async (req, res) => {
    const sale = await changes.setPaused(req.params.id, false, adminActor(req));
    logger.info({ saleId: sale.id, state: sale.state }, "sale resumed");
    res.json(sale);
  });

  router.post("/:id/end", async (req, res) => {
    const sale = await changes.end(req.params.id, adminActor(req));
    logger.info({ saleId: sale.id, endsAt: sale.endsAt }, "sale ended");
    res.json(sale);
  });

  router.get("/:id/audit", async (req, res) => {
    const entries = await readAudit(pool, req.params.id);
    // A deleted sale keeps its trail; a sale without one may predate the audit table.
    if (entries.length === 0) await findSale(req.params.id);
    res.json({ entries });
  });

  router.post("/:id/publish", async (req, res) => {
    const { version, built } = await changes.publish(req.params.id, adminActor(req));
    logger.info({ saleId: req.params.id, version, built }, "sale published");
    res.json({ id: req.params.id, version, built });
  });

  return router;
}
