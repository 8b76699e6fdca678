/**
 * Drain benchmark of the order worker: prefills one sale's stream with 200,000 accepted orders
 * on a private Redis, starts the worker against a fresh test database on the stack's Postgres,
 * and measures orders/s until every order is a row in Postgres (then until all are acknowledged).
 *
 * The stream is prefilled with pipelined XADDs carrying exactly the fields purchase.lua writes,
 * plus the `<n>:s = pending` statuses in the orders hash, instead of running the script 200,000
 * times: that is faster, and this measures the worker, not the script.
 *
 *   make bench    (or: npx tsc -b && (set -a && . ./.env.local && set +a && npx tsx bench/drain.ts))
 * The worker runs compiled (order-worker/build/main.js), as in production: build it first.
 *
 * BENCH_ORDERS (default 200000) and BENCH_BATCH_SIZE (default 1000, the worker's
 * FS_WORKER_BATCH_SIZE) change the run. Writes bench/results/drain.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ORDER_CONSUMER_GROUP, orderRecordField, orderStatusField, saleKeys } from "@flash-sale/contract/keys";
import { formatOrderId } from "@flash-sale/contract/ids";
import { formatOrderRecord } from "@flash-sale/contract/order_record";
import { ORDER_FIELDS } from "@flash-sale/contract/stream";
import { CONFIRM_ORDERS } from "@flash-sale/contract/scripts/order";
import { createRedis, RedisScript, streamGroup, type Pool, type Redis } from "@flash-sale/node-common";
import { PrivateRedis } from "../tests/support/private-redis";
import { ScriptSlowlog } from "../tests/support/script-slowlog";
import { FIXTURE_EPOCH, publishSale, REPO_ROOT, startWorker } from "../tests/support/stream-fixtures";
import { createTestDatabase } from "../tests/support/test-database";

const ORDERS = Number(process.env.BENCH_ORDERS ?? 200_000);
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 1000);
const SALE_ID = "bench-drain";
const PREFILL_CHUNK = 5000;
const CONFIRM_SCRIPT = RedisScript.load(CONFIRM_ORDERS);

async function prefill(redis: Redis): Promise<void> {
  const keys = saleKeys(SALE_ID);
  const at = String(Date.now());
  for (let start = 1; start <= ORDERS; start += PREFILL_CHUNK) {
    const end = Math.min(start + PREFILL_CHUNK - 1, ORDERS);
    const pipeline = redis.pipeline();
    const statuses: string[] = [];
    for (let n = start; n <= end; n++) {
      pipeline.xadd(keys.stream, "*",
        ORDER_FIELDS.orderId, formatOrderId(SALE_ID, FIXTURE_EPOCH, n),
        ORDER_FIELDS.saleId, SALE_ID,
        ORDER_FIELDS.userId, `user-${n}`,
        ORDER_FIELDS.quantity, "1",
        ORDER_FIELDS.userUnits, "1",
        ORDER_FIELDS.acceptedAtMs, at,
        ORDER_FIELDS.requestId, `bench-${n}`,
        ORDER_FIELDS.price, "100",
        ORDER_FIELDS.currency, "USD");
      statuses.push(orderRecordField(String(n)), formatOrderRecord({ userId: `user-${n}`, quantity: 1, acceptedAtMs: Number(at), epoch: FIXTURE_EPOCH, price: 100, currency: "USD" }));
      statuses.push(orderStatusField(String(n)), "pending");
    }
    pipeline.hset(keys.orders, ...statuses);
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err !== null);
    if (failed) throw failed[0];
  }
  await redis.set(keys.orderSeq, ORDERS);
}

async function rowCount(pool: Pool): Promise<number> {
  return Number((await pool.query<{ n: string }>("SELECT count(*) AS n FROM orders")).rows[0]?.n);
}

async function pendingOrUndelivered(redis: Redis): Promise<number> {
  const stream = saleKeys(SALE_ID).stream;
  const group = streamGroup(await redis.call("XINFO", ["GROUPS", stream]), ORDER_CONSUMER_GROUP);
  if (group === undefined) return ORDERS;
  return group.pending + (group.lag ?? 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const server = await PrivateRedis.start();
  const redis = createRedis(server.url(), "bench-drain");
  const db = await createTestDatabase("bench_drain");
  try {
    await publishSale(db.pool, redis, { id: SALE_ID, stock: ORDERS, perUserLimit: 1 });
    const prefillStart = performance.now();
    await prefill(redis);
    console.log(`prefilled ${ORDERS} orders in ${((performance.now() - prefillStart) / 1000).toFixed(1)} s`);

    // confirm-orders.lua's Redis time per call (KEYS orders, stream, statusChanges; ARGV[2] = orders in the call).
    const slowlog = await ScriptSlowlog.start(redis, CONFIRM_SCRIPT, "orderCount");
    const t0 = performance.now();
    const worker = startWorker({
      redisUrl: server.url(),
      databaseUrl: db.url,
      name: "bench",
      batchSize: BATCH_SIZE,
      env: { FS_WORKER_BLOCK_MS: "1000", FS_WORKER_CLAIM_IDLE_MS: "30000", FS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn" },
    });
    const seconds = () => (performance.now() - t0) / 1000;
    const progress: { seconds: number; rows: number }[] = [];
    let rows = 0;
    let firstRowAt: number | undefined;
    let nextReport = 1;
    while (rows < ORDERS) {
      if (worker.child.exitCode !== null) throw new Error(`worker exited: ${worker.stderr()}`);
      await sleep(250);
      rows = await rowCount(db.pool);
      await slowlog.drain();
      if (rows > 0 && firstRowAt === undefined) firstRowAt = seconds();
      if (seconds() >= nextReport) {
        const last = progress[progress.length - 1] ?? { seconds: 0, rows: 0 };
        progress.push({ seconds: Number(seconds().toFixed(2)), rows });
        console.log(`t=${seconds().toFixed(1)}s rows=${rows} (+${rows - last.rows} in the last second)`);
        nextReport += 1;
      }
    }
    const allRowsAt = seconds();
    while ((await pendingOrUndelivered(redis)) > 0) await sleep(10);
    const allAckedAt = seconds();
    const exit = await worker.stop();
    const confirmScript = await slowlog.stop();
    const statuses = await redis.hvals(saleKeys(SALE_ID).orders);
    const confirmed = statuses.filter((s) => s === "confirmed").length;

    // With BENCH_LOG_LEVEL=debug the worker logs each batch's timings: average them.
    const batches = worker.logs.filter((l) => l.msg === "batch drained");
    const avg = (field: string) =>
      batches.length === 0 ? undefined : Number((batches.reduce((sum, l) => sum + Number(l[field]), 0) / batches.length).toFixed(2));
    const batchTimings = batches.length === 0 ? undefined : { batches: batches.length, avgWriteMs: avg("writeMs"), avgConfirmMs: avg("confirmMs") };
    if (batchTimings !== undefined) console.log(`batch timings: ${JSON.stringify(batchTimings)}`);

    const result = {
      orders: ORDERS,
      batchSize: BATCH_SIZE,
      rowsInPostgres: await rowCount(db.pool),
      confirmedInRedis: confirmed,
      secondsToAllRows: Number(allRowsAt.toFixed(3)),
      secondsToAllAcked: Number(allAckedAt.toFixed(3)),
      secondsFirstToLastRow: Number((allRowsAt - (firstRowAt ?? 0)).toFixed(3)),
      ordersPerSecond: Math.round(ORDERS / allRowsAt),
      ordersPerSecondAfterFirstRow: Math.round(ORDERS / (allRowsAt - (firstRowAt ?? 0))),
      workerExit: exit,
      batchTimings,
      confirmScript,
      progress,
      machine: { cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}` },
      at: new Date().toISOString(),
    };
    console.log(
      `drained ${ORDERS} orders in ${result.secondsToAllRows} s: ${result.ordersPerSecond} orders/s ` +
        `(${result.ordersPerSecondAfterFirstRow}/s from the first row; all acknowledged at ${result.secondsToAllAcked} s; ` +
        `${confirmed} confirmed; batch ${BATCH_SIZE}; worker exit ${JSON.stringify(exit)})`,
    );
    console.log(
      `confirm-orders.lua: max SLOWLOG ${confirmScript.maxMicros} µs per call over ${confirmScript.calls} calls ` +
        `(p50 ${confirmScript.p50Micros} µs, p99 ${confirmScript.p99Micros} µs; at most ${confirmScript.maxArg} orders a call; batches of ${BATCH_SIZE})`,
    );
    const out = path.join(REPO_ROOT, "bench/results/drain.json");
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
    console.log(`wrote ${path.relative(REPO_ROOT, out)}`);
  } finally {
    redis.disconnect();
    await db.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
