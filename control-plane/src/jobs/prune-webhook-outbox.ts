/**
 * Job: prunes the webhook outbox (webhooks/prune.ts) of the events delivered more than
 * FS_WEBHOOK_RETENTION_DAYS ago. One instance runs each tick; two at once would only split it.
 */
import type { Logger, Pool } from "@flash-sale/node-common";
import { pruneWebhookOutbox } from "../webhooks/prune";
import type { Job } from "./scheduler";

export interface PruneWebhookOutboxDeps {
  pool: Pool;
  retentionMs: number;
  logger: Logger;
}

export function pruneWebhookOutboxJob(deps: PruneWebhookOutboxDeps, schedule: string, leaseMs: number): Job {
  return {
    name: "prune-webhook-outbox",
    schedule,
    leaseMs,
    async run() {
      const started = Date.now();
      const pruned = await pruneWebhookOutbox(deps.pool, deps.retentionMs);
      if (pruned.events > 0) deps.logger.info({ ...pruned, ms: Date.now() - started }, "webhook outbox pruned");
    },
  };
}
