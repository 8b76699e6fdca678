/**
 * Job: every second, for each open sale split in stock buckets, moves units to the buckets whose
 * shoppers were refused and marks the sale sold out once every bucket is empty
 * (projection/bucket-rebalancer.ts). Under the sale's row lock, so that a rebuild (which also
 * sets the buckets' units) or a reconciliation never meets a move half done.
 */
import type { Logger } from "@flash-sale/node-common";
import type { BucketRebalancer } from "../projection/bucket-rebalancer";
import type { SaleRepository } from "../store/sale-repository";
import { SALE_LOCK_WAIT_MS, type Job } from "./scheduler";

export interface RebalanceBucketsDeps {
  repository: SaleRepository;
  rebalancer: BucketRebalancer;
  logger: Logger;
  now?: () => number;
}

export function rebalanceBucketsJob(deps: RebalanceBucketsDeps, schedule: string, leaseMs: number): Job {
  const now = deps.now ?? Date.now;
  const { repository, rebalancer, logger } = deps;
  return {
    name: "rebalance-buckets",
    schedule,
    leaseMs,
    async run() {
      const sales = (await repository.publishedEndingAfter(now())).filter((s) => s.stockBuckets > 1);
      for (const { id } of sales) {
        try {
          await repository.withLockedSale(id, (locked) => rebalancer.rebalance(locked.sale), SALE_LOCK_WAIT_MS);
        } catch (err) {
          logger.warn({ err, saleId: id }, "stock buckets not rebalanced; tried again on the next run");
        }
      }
    },
  };
}
