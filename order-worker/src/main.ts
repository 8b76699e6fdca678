/**
 * The order worker: drains every published sale's order stream into Postgres, and its status
 * change stream (paid, expired, failed) onto the orders rows.
 * Environment: FS_REDIS_URL (or FS_REDIS_CLUSTER_NODES), FS_REDIS_COMMAND_TIMEOUT_MS, FS_DATABASE_URL, FS_PG_LOCK_TIMEOUT_MS,
 * FS_PG_STATEMENT_TIMEOUT_MS, FS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS, FS_WORKER_BATCH_SIZE, FS_WORKER_BLOCK_MS,
 * FS_WORKER_CLAIM_IDLE_MS, FS_WORKER_BACKOFF_MAX_MS, FS_WORKER_MAX_DELIVERIES, FS_WORKER_NAME, FS_LOG_LEVEL
 * (and FS_WORKER_FAULT, for the crash tests only: see faults.ts).
 * SIGTERM/SIGINT: stop reading, finish the batches in hand (commit + ack), close connections, exit 0.
 */
import os from "node:os";
import { ORDER_CONSUMER_GROUP } from "@flash-sale/contract/keys";
import { ConfigError, createLogger, createPool, createRedis, onShutdown, readEnv, serveMetrics } from "@flash-sale/node-common";
import { crashIfAt, parseFault } from "./faults";
import { OrderConfirmer } from "./order-confirmer";
import { OrderWriter } from "./order-writer";
import { deliveryCounts } from "./pending-entries";
import { StatusWriter } from "./status-writer";
import { describeError } from "./retry";
import { StreamReader } from "./stream-reader";
import { BATCHES_IN_FLIGHT, OrderWorker } from "./worker";
import { WorkerMetrics } from "./worker-metrics";

async function main(): Promise<void> {
  const env = readEnv([
    "FS_REDIS_URL",
    "FS_REDIS_CLUSTER_NODES",
    "FS_REDIS_COMMAND_TIMEOUT_MS",
    "FS_DATABASE_URL",
    "FS_PG_LOCK_TIMEOUT_MS",
    "FS_PG_STATEMENT_TIMEOUT_MS",
    "FS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS",
    "FS_WORKER_BATCH_SIZE",
    "FS_WORKER_BLOCK_MS",
    "FS_WORKER_CLAIM_IDLE_MS",
    "FS_WORKER_BACKOFF_MAX_MS",
    "FS_WORKER_MAX_DELIVERIES",
    "FS_WORKER_NAME",
    "FS_WORKER_METRICS_HOST",
    "FS_WORKER_METRICS_PORT",
    "FS_LOG_LEVEL",
  ]);
  const parsedFault = parseFault(process.env.FS_WORKER_FAULT);
  if ("error" in parsedFault) throw new ConfigError(parsedFault.error);
  const { fault } = parsedFault;

  // Stable across restarts (no pid): a restarted worker re-reads its own pending entries at once
  // rather than leaving them to a claim after FS_WORKER_CLAIM_IDLE_MS. Unique per instance.
  const consumer = env.FS_WORKER_NAME !== undefined && env.FS_WORKER_NAME !== "" ? env.FS_WORKER_NAME : os.hostname();
  const logger = createLogger("order-worker", env.FS_LOG_LEVEL).child({ consumer });
  // Two connections: reads block (XREADGROUP BLOCK) while the other confirms committed batches.
  // A read's timeout comes on top of its block, so that only a Redis that stalls fails it.
  const readRedis = createRedis(env.FS_REDIS_URL, `order-worker:${consumer}:read`, env.FS_REDIS_CLUSTER_NODES, env.FS_REDIS_COMMAND_TIMEOUT_MS + env.FS_WORKER_BLOCK_MS);
  const redis = createRedis(env.FS_REDIS_URL, `order-worker:${consumer}`, env.FS_REDIS_CLUSTER_NODES, env.FS_REDIS_COMMAND_TIMEOUT_MS);
  for (const r of [readRedis, redis]) {
    // Failed commands are retried and logged by the worker; this only keeps ioredis quiet.
    r.on("error", (err: unknown) => logger.debug({ error: describeError(err) }, "redis connection error"));
  }
  // The query in progress fails too and its batch is retried: this only logs the cause.
  // A worker frozen inside a batch's transaction holds its sales' rows (the orders' foreign key)
  // until Postgres ends its session: a repair of those sales waits that long at most.
  const pool = createPool(env.FS_DATABASE_URL, BATCHES_IN_FLIGHT, (err) => logger.warn({ error: describeError(err) }, "postgres connection lost"), {
    lockTimeoutMs: env.FS_PG_LOCK_TIMEOUT_MS,
    statementTimeoutMs: env.FS_PG_STATEMENT_TIMEOUT_MS,
    idleInTransactionMs: env.FS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  });

  const reader = new StreamReader(
    readRedis,
    {
      group: ORDER_CONSUMER_GROUP,
      consumer,
      batchSize: env.FS_WORKER_BATCH_SIZE,
      blockMs: env.FS_WORKER_BLOCK_MS,
      claimIdleMs: env.FS_WORKER_CLAIM_IDLE_MS,
    },
    logger,
  );
  const metrics = new WorkerMetrics(redis);
  const writer = new OrderWriter(pool, () => crashIfAt(fault, "mid-batch", (msg) => logger.warn(msg)));
  const worker = new OrderWorker({
    reader,
    writer,
    statusWriter: new StatusWriter(pool),
    confirmer: new OrderConfirmer(redis, ORDER_CONSUMER_GROUP, (sale, n) => metrics.ordersDrained.inc({ sale }, n)),
    logger,
    backoffMaxMs: env.FS_WORKER_BACKOFF_MAX_MS,
    fault,
    metrics,
    deliveries: (entries) => deliveryCounts(redis, ORDER_CONSUMER_GROUP, entries),
    maxDeliveries: env.FS_WORKER_MAX_DELIVERIES,
  });
  const metricsListener = await serveMetrics(() => metrics.scrape(), metrics.registry.contentType, env.FS_WORKER_METRICS_PORT, env.FS_WORKER_METRICS_HOST);
  logger.info({ host: env.FS_WORKER_METRICS_HOST, port: metricsListener.port }, "metrics listening");

  onShutdown(logger, async () => {
    await worker.stop();
    metricsListener.server.close();
    await Promise.allSettled([readRedis.quit(), redis.quit(), pool.end()]);
  });
  logger.info({ batchSize: env.FS_WORKER_BATCH_SIZE, fault }, "order worker started");
  worker.start().catch((err: unknown) => {
    logger.fatal({ err }, "order worker failed");
    process.exit(1);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`order-worker: ${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(1);
});
