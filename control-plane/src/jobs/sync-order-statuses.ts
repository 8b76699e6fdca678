/**
 * Job: copies the order status changes of `reserve` and `payment` sales (paid, expired,
 * failed) from Redis to Postgres.
 */
import type { Logger, Redis } from "@flash-sale/node-common";
import { applyStatusChanges } from "../reservations/status-changes";
import type { SaleRepository } from "../sales/repository";
import type { Job } from "./scheduler";

/** Payments and expiries may reach Redis until a day after a sale's end (see expire-reservations). */
const SYNC_AFTER_END_MS = 24 * 3_600_000;

export interface SyncOrderStatusesDeps {
  redis: Redis;
  repository: SaleRepository;
  logger: Logger;
  now?: () => number;
}

export function syncOrderStatusesJob(deps: SyncOrderStatusesDeps, schedule: string, leaseMs: number): Job {
  const now = deps.now ?? Date.now;
  return {
    name: "sync-order-statuses",
    schedule,
    leaseMs,
    async run() {
      for (const sale of await deps.repository.publishedTakingPaymentEndingAfter(now() - SYNC_AFTER_END_MS)) {
        const applied = await applyStatusChanges(deps.redis, deps.repository, sale.id);
        if (applied > 0) deps.logger.debug({ saleId: sale.id, applied }, "order statuses copied to Postgres");
      }
    },
  };
}
