/**
 * Job: keeps every published sale applied to Redis as committed in Postgres. A sale whose
 * fence names another Redis process (a restart, a failover), whose state is gone (an emptied
 * instance, lost keys) or whose counter is below the highest order number in Postgres sells
 * nothing (the scripts hold it) until this job rebuilds it from Postgres — within a second or
 * two, audited, logged and counted (fs_control_plane_sale_repairs_total). A sale whose applied
 * revision (its meta, its config record) is below its revision in Postgres has a change that
 * was saved but not applied (Redis did not answer, or the control plane died after the commit):
 * this job applies it. A stock lowering taken out of Redis whose commit never came (the change
 * failed, or its control plane died between the two) is undone the same way. A sale that fails,
 * or whose row another transaction holds past SALE_LOCK_WAIT_MS (an order worker frozen
 * mid-insert), is tried again on the next run; the others go on meanwhile.
 */
import type { Redis } from "@flash-sale/node-common";
import type { SalePublisher } from "../projection/publisher";
import type { SaleRepository } from "../store/sale-repository";
import { buildReason, readBuildState } from "../projection/sale-builder";
import { defineJob, forEachSale, SALE_LOCK_WAIT_MS, type Job, type JobDeps } from "./scheduler";

/** Ended sales are kept built this long: payments, expiries and order lookups still need them. */
const KEEP_AFTER_END_MS = 24 * 3600_000;

export interface KeepSalesBuiltDeps extends JobDeps {
  redis: Redis;
  repository: SaleRepository;
  publisher: SalePublisher;
}

export function keepSalesBuiltJob(deps: KeepSalesBuiltDeps, schedule: string, leaseMs: number): Job {
  const { redis, repository, publisher, logger } = deps;

  /** A cheap look first; the decision to build is taken again under the sale's lock. */
  async function needsApply(id: string, revision: number, stockBuckets: number, highest: number, configRevision: number): Promise<boolean> {
    if (configRevision < revision) return true;
    const highestByBucket = stockBuckets === 1 ? [highest] : await repository.highestOrderNumbersByBucket(id, stockBuckets);
    if (buildReason(await readBuildState(redis, id, stockBuckets), 1, highestByBucket) !== undefined) return true;
    const applied = await publisher.appliedState(id, stockBuckets);
    // Behind Postgres, or a lowering taken out of Redis whose commit never came (see
    // SalePublisher.lowerStock): the apply catches it up or undoes it.
    return applied.revision < revision || (applied.lowering !== undefined && applied.lowering.revision > revision);
  }

  return defineJob("keep-sales-built", deps, schedule, leaseMs, async (now) => {
    const sales = await repository.publishedEndingAfter(now() - KEEP_AFTER_END_MS);
    if (sales.length === 0) return;
    const ids = sales.map((s) => s.id);
    const highest = await repository.highestOrderNumbers(ids);
    const configRevisions = await publisher.configRevisions(ids);
    await forEachSale(
      sales,
      logger,
      "sale not applied to Redis; retried on the next run",
      async ({ id, revision, stockBuckets }) => {
        if (!(await needsApply(id, revision, stockBuckets, highest.get(id) ?? 0, configRevisions.get(id) ?? 0))) return;
        const applied = await repository.withLockedSale(id, (locked) => publisher.apply(locked), SALE_LOCK_WAIT_MS);
        if (applied !== undefined) logger.info({ saleId: id, revision, ...applied }, "sale applied to Redis by keep-sales-built");
      },
      ({ id, revision }) => ({ saleId: id, revision }),
    );
  });
}
