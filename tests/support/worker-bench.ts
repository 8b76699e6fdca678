/**
 * The order-worker tests' setup, once: the file's stack without gateway or control plane (a
 * private Redis and a test database), both emptied before each test, and the workers a test
 * starts, killed after it.
 */
import type { Redis } from "@flash-sale/node-common";
import type { PrivateRedis } from "./private-redis";
import type { AcceptedOrder } from "./purchase-script";
import { drainState, drainedState, startWorker, type WorkerProcess, type WorkerSettings } from "./stream-fixtures";
import type { TestDatabase } from "./test-database";
import { TestStack } from "./test-stack";
import { useStack } from "./use-stack";

export interface WorkerBench {
  /** Set before the file's first test. */
  readonly server: PrivateRedis;
  readonly redis: Redis;
  readonly db: TestDatabase;
  /** A worker on the bench's Redis and database, killed after the test. */
  worker(name: string, settings?: Omit<WorkerSettings, "redisUrl" | "databaseUrl" | "name">): WorkerProcess;
  /** Whether `orders` are drained: each in Postgres once and confirmed, nothing left pending. */
  drained(orders: AcceptedOrder[]): Promise<boolean>;
}

/** Registers the file's hooks; `tables` are truncated before each test. */
export function useWorkerBench(name: string, tables: string[] = ["orders", "sales"]): WorkerBench {
  const stack = useStack(new TestStack({ name, gateway: false, controlPlane: false }));
  let workers: WorkerProcess[] = [];
  const bench: WorkerBench = {
    get server() {
      return stack.redisServer;
    },
    get redis() {
      return stack.redis;
    },
    get db() {
      return stack.db;
    },
    worker(workerName, settings = {}) {
      const w = startWorker({ redisUrl: stack.redisServer.url(), databaseUrl: stack.db.url, name: workerName, ...settings });
      workers.push(w);
      return w;
    },
    async drained(orders) {
      return JSON.stringify(await drainState(stack.db.pool, stack.redis, orders)) === JSON.stringify(drainedState(orders));
    },
  };

  beforeEach(async () => {
    await stack.redis.flushall();
    await stack.db.pool.query(`TRUNCATE ${tables.join(", ")}`);
  });
  afterEach(() => {
    for (const w of workers) w.child.kill("SIGKILL");
    workers = [];
  });
  return bench;
}
