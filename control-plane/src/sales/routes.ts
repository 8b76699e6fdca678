/** The admin API's sale routes, under /admin/api/sales. */
import { Router } from "express";
import type { Logger, Redis } from "@flash-sale/node-common";
import { ApiError } from "../http/api-error";
import { fieldErrors, type FieldError } from "../http/field-errors";
import { readLiveStats } from "./live-stats";
import type { SalePublisher } from "./publisher";
import type { Sale, SaleRepository } from "./repository";
import { saleIdsFromName } from "./sale-id";
import { saleInputSchema, type SaleDefaults, type SaleSettings } from "./schema";

export interface SaleRoutesDeps {
  repository: SaleRepository;
  publisher: SalePublisher;
  redis: Redis;
  defaults: SaleDefaults;
  logger: Logger;
}

function invalidSale(fields: FieldError[]): ApiError {
  const summary = fields.map((f) => (f.path === "" ? f.message : `${f.path}: ${f.message}`)).join("; ");
  return new ApiError("bad_request", `The sale is invalid: ${summary}.`, { fields });
}

/** Ids tried for a sale the admin gave none; more than one only when names repeat. */
const GENERATED_ID_ATTEMPTS = 3;

export function saleRoutes({ repository, publisher, redis, defaults, logger }: SaleRoutesDeps): Router {
  const schema = saleInputSchema(defaults);
  const router = Router();

  async function findSale(id: string): Promise<Sale> {
    const sale = await repository.find(id);
    if (sale === undefined) throw new ApiError("sale_not_found");
    return sale;
  }

  /** Stores the sale under its id, or under the first free id made from its name. */
  async function insertSale(settings: SaleSettings): Promise<Sale> {
    const ids = settings.id !== undefined ? [settings.id] : saleIdsFromName(settings.name, GENERATED_ID_ATTEMPTS);
    for (const id of ids) {
      const sale = await repository.insert(id, settings);
      if (sale !== undefined) return sale;
    }
    const message =
      settings.id !== undefined
        ? `"${settings.id}" is already taken; choose another id`
        : "no free id could be made from the name; give an id";
    throw invalidSale([{ path: "id", message }]);
  }

  router.get("/", async (_req, res) => {
    res.json({ sales: await repository.list() });
  });

  router.post("/", async (req, res) => {
    const parsed = schema.safeParse(req.body);
    if (!parsed.success) throw invalidSale(fieldErrors(parsed.error));
    const sale = await insertSale(parsed.data);
    logger.info({ saleId: sale.id }, "sale created");
    // Postgres is the record: a sale saved but not published is published again by POST …/publish.
    const published = await publisher.publish(sale).catch((err: unknown) => {
      logger.error({ err, saleId: sale.id }, "sale saved but not published");
      throw new ApiError(
        "unavailable",
        `The sale was saved but not published; retry with POST /admin/api/sales/${sale.id}/publish.`,
      );
    });
    logger.info({ saleId: sale.id, ...published }, "sale published");
    res
      .status(201)
      .location(`/admin/api/sales/${sale.id}`)
      .json({ ...sale, publishedVersion: published.version });
  });

  router.get("/:id", async (req, res) => {
    const sale = await findSale(req.params.id);
    res.json({ ...sale, stats: await readLiveStats(redis, repository, sale.id) });
  });

  router.post("/:id/publish", async (req, res) => {
    const sale = await findSale(req.params.id);
    const published = await publisher.publish(sale);
    logger.info({ saleId: sale.id, ...published }, "sale published");
    res.json({ id: sale.id, ...published });
  });

  return router;
}
