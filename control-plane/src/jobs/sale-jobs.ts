/** The control plane's scheduled jobs, as every instance runs them (one run per tick overall). */
import { hostname } from "node:os";
import type { Logger, Pool, Redis } from "@flash-sale/node-common";
import type { Fault } from "../faults";
import type { SalePublisher } from "../projection/publisher";
import type { SaleRepository } from "../store/sale-repository";
import { JobLock } from "./job-lock";
import { expireReservationsJob } from "./expire-reservations";
import { keepSalesBuiltJob } from "./keep-sales-built";
import { keepTrafficJob } from "./keep-traffic";
import { pruneWebhookOutboxJob } from "./prune-webhook-outbox";
import { rebalanceBucketsJob } from "./rebalance-buckets";
import { BucketRebalancer } from "../projection/bucket-rebalancer";
import { reconcileSalesJob } from "./reconcile-sales";
import { JobScheduler } from "./scheduler";

/** Every second: a sale held after Redis lost its state sells again within seconds. */
const KEEP_BUILT_SCHEDULE = "* * * * * *";
/** Every 2 s: an unpaid order holds its units at most this much past its payment timeout. */
const EXPIRE_SCHEDULE = "*/2 * * * * *";
/** Every second: a stock bucket whose shoppers are refused while others hold units gets some within a second or two. */
const REBALANCE_SCHEDULE = "* * * * * *";
/** Every second: the live page and the report draw each second of a sale's traffic. */
const KEEP_TRAFFIC_SCHEDULE = "* * * * * *";
/** Every minute, at second 0. */
const RECONCILE_SCHEDULE = "0 * * * * *";
/** Every minute, at second 30: the retention is counted in days. */
const PRUNE_WEBHOOKS_SCHEDULE = "30 * * * * *";
/**
 * A run's lease, renewed while it runs: a control plane that dies mid-run holds its job at most
 * this long (reservations then expire this much late).
 */
export const JOB_LEASE_MS = 5_000;

export interface SaleJobsDeps {
  redis: Redis;
  pool: Pool;
  repository: SaleRepository;
  publisher: SalePublisher;
  logger: Logger;
  /** The gateway's metrics, where no live gateway registered its own (projection/traffic.ts). */
  gatewayMetricsUrl: string;
  fault?: Fault;
  /** Units the rebalance-buckets job moved between a sale's stock buckets (for /metrics). */
  onUnitsMoved?: (saleId: string, units: number) => void;
  /** How long delivered webhook events are kept (FS_WEBHOOK_RETENTION_DAYS); absent, the outbox is not pruned. */
  webhookRetentionMs?: number;
}

export function saleJobs({ redis, pool, repository, publisher, logger, gatewayMetricsUrl, fault, onUnitsMoved, webhookRetentionMs }: SaleJobsDeps): JobScheduler {
  const jobs = [
    keepSalesBuiltJob({ redis, repository, publisher, logger }, KEEP_BUILT_SCHEDULE, JOB_LEASE_MS),
    reconcileSalesJob({ redis, repository, logger }, RECONCILE_SCHEDULE, JOB_LEASE_MS),
    expireReservationsJob({ redis, repository, logger, fault }, EXPIRE_SCHEDULE, JOB_LEASE_MS),
    keepTrafficJob({ pool, redis, gatewayMetricsUrl, logger }, KEEP_TRAFFIC_SCHEDULE, JOB_LEASE_MS),
    rebalanceBucketsJob({ repository, rebalancer: new BucketRebalancer(redis, logger, onUnitsMoved), logger }, REBALANCE_SCHEDULE, JOB_LEASE_MS),
  ];
  if (webhookRetentionMs !== undefined) jobs.push(pruneWebhookOutboxJob({ pool, retentionMs: webhookRetentionMs, logger }, PRUNE_WEBHOOKS_SCHEDULE, JOB_LEASE_MS));
  return new JobScheduler(jobs, new JobLock(redis, `${hostname()}:${process.pid}`), logger);
}
