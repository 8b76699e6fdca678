/**
 * The order-worker tests' setup, once: a private Redis and a test database for the file,
 * both emptied before each test, and the workers a test starts, killed after it.
 */
import { createRedis, type Redis } from "@flash-sale/node-common";
import { PrivateRedis } from "./private-redis";
import type { AcceptedOrder } from "./purchase-script";
import { drainState, drainedState, startWorker, type WorkerProcess, type WorkerSettings } from "./stream-fixtures";
import { createTestDatabase, type TestDatabase } from "./test-database";

export interface WorkerBench {
  /** Set before the file's first test. */
  server: PrivateRedis;
  redis: Redis;
  db: TestDatabase;
  /** A worker on the bench's Redis and database, killed after the test. */
  worker(name: string, settings?: Omit<WorkerSettings, "redisUrl" | "databaseUrl" | "name">): WorkerProcess;
  /** Whether `orders` are drained: each in Postgres once and confirmed, nothing left pending. */
  drained(orders: AcceptedOrder[]): Promise<boolean>;
}

/** Registers the file's hooks; `tables` are truncated before each test. */
export function useWorkerBench(name: string, tables: string[] = ["orders", "sales"]): WorkerBench {
  let workers: WorkerProcess[] = [];
  const bench = {
    worker(workerName, settings = {}) {
      const w = startWorker({ redisUrl: bench.server.url(), databaseUrl: bench.db.url, name: workerName, ...settings });
      workers.push(w);
      return w;
    },
    async drained(orders) {
      return JSON.stringify(await drainState(bench.db.pool, bench.redis, orders)) === JSON.stringify(drainedState(orders));
    },
  } as WorkerBench;

  beforeAll(async () => {
    bench.server = await PrivateRedis.start();
    bench.redis = createRedis(bench.server.url(), `${name}-test`);
    bench.db = await createTestDatabase(name.replace(/-/g, "_"));
  });
  beforeEach(async () => {
    await bench.redis.flushall();
    await bench.db.pool.query(`TRUNCATE ${tables.join(", ")}`);
  });
  afterEach(() => {
    for (const w of workers) w.child.kill("SIGKILL");
    workers = [];
  });
  afterAll(async () => {
    bench.redis.disconnect();
    await bench.db.close();
    await bench.server.stop();
  });
  return bench;
}
