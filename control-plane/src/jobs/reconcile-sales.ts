/**
 * Job: reconciles every published sale that has not ended long ago (Redis against Postgres,
 * see projection/reconciliation.ts), keeps the result for the sale's stats and /metrics, and logs
 * what it found wrong. A sale held for a rebuild is said to be, not reconciled; a sale that
 * fails, or whose row is held past SALE_LOCK_WAIT_MS, is left to the next run; the others go on.
 */
import type { Logger, Redis } from "@flash-sale/node-common";
import { heldForRebuild, problemsOf, reconcileSale, storeReconciliation } from "../projection/reconciliation";
import type { SaleRepository } from "../store/sale-repository";
import { SALE_LOCK_WAIT_MS, type Job } from "./scheduler";

/** Ended sales stay under watch this long: late worker drains, refunds. */
const RECONCILE_AFTER_END_MS = 24 * 3_600_000;

export interface ReconcileSalesDeps {
  redis: Redis;
  repository: SaleRepository;
  logger: Logger;
  now?: () => number;
  /** A consumer idle longer is not a live worker (order-stream.ts). */
  workerIdleLimitMs?: number;
}

export function reconcileSalesJob(deps: ReconcileSalesDeps, schedule: string, leaseMs: number): Job {
  const now = deps.now ?? Date.now;
  return {
    name: "reconcile-sales",
    schedule,
    leaseMs,
    async run() {
      for (const { id } of await deps.repository.publishedEndingAfter(now() - RECONCILE_AFTER_END_MS)) {
        let checked;
        try {
          checked = await deps.repository.withLockedSale(id, async (locked) => {
            const held = await heldForRebuild(deps.redis, locked.sale);
            if (held !== undefined) return { held };
            const r = await reconcileSale(deps.redis, deps.repository, locked, now(), { workerIdleLimitMs: deps.workerIdleLimitMs });
            await storeReconciliation(locked, r);
            return { result: r };
          }, SALE_LOCK_WAIT_MS);
        } catch (err) {
          deps.logger.warn({ err, saleId: id }, "sale not reconciled; tried again on the next run");
          continue;
        }
        if (checked === undefined) continue; // deleted meanwhile
        if ("held" in checked) {
          // Between a loss of its Redis state and its rebuild (a second or two): no drift to alarm on.
          deps.logger.info({ saleId: id, held: checked.held }, "sale held for a rebuild: not reconciled, its last result stands");
          continue;
        }
        const { result } = checked;
        const problems = problemsOf(result);
        if (problems.length > 0) deps.logger.warn({ saleId: id, problems, reconciliation: result }, "sale drift: Redis and Postgres disagree");
        else deps.logger.debug({ saleId: id, reconciliation: result }, "sale reconciled");
      }
    },
  };
}
