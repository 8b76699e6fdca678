/**
 * Job: reconciles every published sale that has not ended long ago (Redis against Postgres),
 * keeps the result for the sale's stats, and logs any drift.
 */
import type { Logger, Redis } from "@flash-sale/node-common";
import { hasDrift, reconcileSale, storeReconciliation } from "../sales/reconciliation";
import type { SaleRepository } from "../sales/repository";
import type { Job } from "./scheduler";

/** Ended sales stay under watch this long: late worker drains, refunds. */
const RECONCILE_AFTER_END_MS = 24 * 3_600_000;

export interface ReconcileSalesDeps {
  redis: Redis;
  repository: SaleRepository;
  logger: Logger;
  now?: () => number;
}

export function reconcileSalesJob(deps: ReconcileSalesDeps, schedule: string, leaseMs: number): Job {
  const now = deps.now ?? Date.now;
  return {
    name: "reconcile-sales",
    schedule,
    leaseMs,
    async run() {
      for (const { id } of await deps.repository.publishedEndingAfter(now() - RECONCILE_AFTER_END_MS)) {
        const result = await deps.repository.withLockedSale(id, async (locked) => {
          const r = await reconcileSale(deps.redis, deps.repository, locked, now());
          await storeReconciliation(locked, r);
          return r;
        });
        if (result === undefined) continue; // deleted meanwhile
        if (hasDrift(result)) deps.logger.warn({ saleId: id, reconciliation: result }, "sale drift: Redis and Postgres disagree");
        else deps.logger.debug({ saleId: id, reconciliation: result }, "sale reconciled");
      }
    },
  };
}
