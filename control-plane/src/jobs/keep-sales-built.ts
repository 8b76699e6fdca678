/**
 * Job: keeps every published sale's state built in Redis. A sale whose fence names another
 * Redis process (a restart, a failover), whose state is gone (an emptied instance, lost keys)
 * or whose counter is below the highest order number in Postgres sells nothing (the scripts
 * hold it) until this job rebuilds it from Postgres and publishes its config again — within a
 * second or two, audited, logged and counted (fs_control_plane_sale_repairs_total).
 */
import type { Logger, Redis } from "@flash-sale/node-common";
import type { SalePublisher } from "../sales/publisher";
import type { SaleRepository } from "../sales/repository";
import { buildReason, readBuildState } from "../sales/sale-builder";
import type { Job } from "./scheduler";

/** Ended sales are kept built this long: payments, expiries and order lookups still need them. */
const KEEP_AFTER_END_MS = 24 * 3600_000;

export interface KeepSalesBuiltDeps {
  redis: Redis;
  repository: SaleRepository;
  publisher: SalePublisher;
  logger: Logger;
  now?: () => number;
}

export function keepSalesBuiltJob(deps: KeepSalesBuiltDeps, schedule: string, leaseMs: number): Job {
  const now = deps.now ?? Date.now;
  return {
    name: "keep-sales-built",
    schedule,
    leaseMs,
    async run() {
      const ids = await deps.repository.publishedEndingAfter(now() - KEEP_AFTER_END_MS);
      if (ids.length === 0) return;
      const highest = await deps.repository.highestOrderNumbers(ids);
      for (const id of ids) {
        // A cheap look first; the decision is taken again under the sale's lock.
        if (buildReason(await readBuildState(deps.redis, id), 1, highest.get(id) ?? 0) === undefined) continue;
        const published = await deps.repository.withLockedSale(id, (locked) => deps.publisher.publish(locked));
        if (published?.built !== undefined) deps.logger.info({ saleId: id, ...published }, "sale rebuilt and published again");
      }
    },
  };
}
