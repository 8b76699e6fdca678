/**
 * Job: prunes the webhook outbox (webhooks/prune.ts) of the events delivered more than
 * FS_WEBHOOK_RETENTION_DAYS ago. One instance runs each tick; two at once would only split it.
 */
import type { Pool } from "@flash-sale/node-common";
import { pruneWebhookOutbox } from "../webhooks/prune";
import { defineJob, type Job, type JobDeps } from "./scheduler";

export interface PruneWebhookOutboxDeps extends JobDeps {
  pool: Pool;
  retentionMs: number;
}

export function pruneWebhookOutboxJob(deps: PruneWebhookOutboxDeps, schedule: string, leaseMs: number): Job {
  return defineJob("prune-webhook-outbox", deps, schedule, leaseMs, async () => {
    const started = Date.now();
    const pruned = await pruneWebhookOutbox(deps.pool, deps.retentionMs);
    if (pruned.events > 0) deps.logger.info({ ...pruned, ms: Date.now() - started }, "webhook outbox pruned");
  });
}
