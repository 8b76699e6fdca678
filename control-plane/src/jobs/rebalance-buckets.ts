/**
 * Job: every second, for each open sale split in stock buckets, moves units to the buckets whose
 * shoppers were refused and marks the sale sold out once every bucket is empty
 * (projection/bucket-rebalancer.ts). Under the sale's row lock, so that a rebuild (which also
 * sets the buckets' units) or a reconciliation never meets a move half done.
 */
import type { BucketRebalancer } from "../projection/bucket-rebalancer";
import type { SaleRepository } from "../store/sale-repository";
import { defineJob, forEachSale, SALE_LOCK_WAIT_MS, type Job, type JobDeps } from "./scheduler";

export interface RebalanceBucketsDeps extends JobDeps {
  repository: SaleRepository;
  rebalancer: BucketRebalancer;
}

export function rebalanceBucketsJob(deps: RebalanceBucketsDeps, schedule: string, leaseMs: number): Job {
  const { repository, rebalancer, logger } = deps;
  return defineJob("rebalance-buckets", deps, schedule, leaseMs, async (now) => {
    const sales = (await repository.publishedEndingAfter(now())).filter((s) => s.stockBuckets > 1);
    await forEachSale(sales, logger, "stock buckets not rebalanced; tried again on the next run", async ({ id }) => {
      await repository.withLockedSale(id, (locked) => rebalancer.rebalance(locked.sale), SALE_LOCK_WAIT_MS);
    });
  });
}
