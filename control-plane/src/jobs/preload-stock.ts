/**
 * Job: loads the stock of published sales that start within the preload window, so that a
 * sale never opens without its units (Redis restarted empty, a sale published long ago).
 * Only sales that have not started: the count of a live sale is never set again, and a sale
 * with units sold is never loaded (prepare-sale.lua); reconciliation reports those.
 */
import type { Logger } from "@flash-sale/node-common";
import type { SalePublisher } from "../sales/publisher";
import type { SaleRepository } from "../sales/repository";
import type { Job } from "./scheduler";

export interface PreloadStockDeps {
  repository: SaleRepository;
  publisher: SalePublisher;
  logger: Logger;
  /** How long before its start a sale's stock is made sure of. */
  aheadMs: number;
  now?: () => number;
}

export function preloadStockJob(deps: PreloadStockDeps, schedule: string, leaseMs: number): Job {
  const now = deps.now ?? Date.now;
  return {
    name: "preload-stock",
    schedule,
    leaseMs,
    async run() {
      const t = now();
      for (const id of await deps.repository.publishedStartingBetween(t, t + deps.aheadMs)) {
        // Under the sale's lock: an admin's stock change cannot slip between read and load.
        const preloaded = await deps.repository.withLockedSale(id, ({ sale }) => deps.publisher.prepare(sale));
        if (preloaded === true) deps.logger.info({ saleId: id }, "stock preloaded ahead of the start");
      }
    },
  };
}
