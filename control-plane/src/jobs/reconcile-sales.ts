/**
 * Job: reconciles every published sale that has not ended long ago (Redis against Postgres,
 * see projection/reconciliation.ts), keeps the result for the sale's stats and /metrics, and logs
 * what it found wrong. A sale held for a rebuild is said to be, not reconciled; a sale that
 * fails, or whose row is held past SALE_LOCK_WAIT_MS, is left to the next run; the others go on.
 */
import type { Redis } from "@flash-sale/node-common";
import { heldForRebuild, problemsOf, reconcileSale, storeReconciliation } from "../projection/reconciliation";
import type { SaleRepository } from "../store/sale-repository";
import { defineJob, forEachSale, SALE_LOCK_WAIT_MS, type Job, type JobDeps } from "./scheduler";

/** Ended sales stay under watch this long: late worker drains, refunds. */
const RECONCILE_AFTER_END_MS = 24 * 3_600_000;

export interface ReconcileSalesDeps extends JobDeps {
  redis: Redis;
  repository: SaleRepository;
  /** A consumer idle longer is not a live worker (order-stream.ts). */
  workerIdleLimitMs?: number;
}

export function reconcileSalesJob(deps: ReconcileSalesDeps, schedule: string, leaseMs: number): Job {
  return defineJob("reconcile-sales", deps, schedule, leaseMs, async (now) => {
    const sales = await deps.repository.publishedEndingAfter(now() - RECONCILE_AFTER_END_MS);
    await forEachSale(sales, deps.logger, "sale not reconciled; tried again on the next run", async ({ id }) => {
      const checked = await deps.repository.withLockedSale(id, async (locked) => {
        const held = await heldForRebuild(deps.redis, locked.sale);
        if (held !== undefined) return { held };
        const r = await reconcileSale(deps.redis, deps.repository, locked, now(), { workerIdleLimitMs: deps.workerIdleLimitMs });
        await storeReconciliation(locked, r);
        return { result: r };
      }, SALE_LOCK_WAIT_MS);
      if (checked === undefined) return; // deleted meanwhile
      if ("held" in checked) {
        // Between a loss of its Redis state and its rebuild (a second or two): no drift to alarm on.
        deps.logger.info({ saleId: id, held: checked.held }, "sale held for a rebuild: not reconciled, its last result stands");
        return;
      }
      const { result } = checked;
      const problems = problemsOf(result);
      if (problems.length > 0) deps.logger.warn({ saleId: id, problems, reconciliation: result }, "sale drift: Redis and Postgres disagree");
      else deps.logger.debug({ saleId: id, reconciliation: result }, "sale reconciled");
    });
  });
}
