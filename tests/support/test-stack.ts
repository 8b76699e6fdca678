/**
 * One test file's stack, started once and stopped once: its own Redis, its own database on
 * the machine's Postgres, the control plane in-process, a real gateway (nginx + compiled Lua)
 * and, when asked for, the order worker. Stopping is safe after a partial start.
 */
import { createRedis, type Redis } from "@flash-sale/node-common";
import { Gateway } from "./gateway";
import { PrivateRedis, type AppendFsync } from "./private-redis";
import { createTestDatabase, type TestDatabase } from "./test-database";
import { ControlPlane } from "./control-plane";
import { startWorker, type WorkerExit, type WorkerProcess } from "./stream-fixtures";

export interface TestStackOptions {
  /** Names the database and the worker. */
  name: string;
  /** nginx knob overrides (see nginx-conf/knobs.conf). */
  knobs?: Record<string, string>;
  /** Keep Redis data across a kill and restart (AOF). */
  persistentRedis?: boolean;
  /** With persistentRedis: when the AOF is fsynced (default `always`). */
  appendfsync?: AppendFsync;
  /** Start the order worker, with this batch size. */
  worker?: { batchSize?: number };
  /** Also listen for the benchmark's ceilings (Gateway.benchPort). */
  benchListen?: boolean;
}

export class TestStack {
  redisServer!: PrivateRedis;
  redis!: Redis;
  db!: TestDatabase;
  controlPlane!: ControlPlane;
  gateway!: Gateway;
  worker: WorkerProcess | undefined;

  private constructor(private readonly opts: TestStackOptions) {}

  static async start(opts: TestStackOptions): Promise<TestStack> {
    const stack = new TestStack(opts);
    try {
      await stack.startParts();
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  private async startParts(): Promise<void> {
    this.redisServer = await PrivateRedis.start({ persistent: this.opts.persistentRedis, appendfsync: this.opts.appendfsync });
    this.redis = createRedis(this.redisServer.url(), "test");
    this.db = await createTestDatabase(this.opts.name.replace(/-/g, "_"));
    this.gateway = await Gateway.start({ redisUrl: this.redisServer.url(), knobs: this.opts.knobs, benchListen: this.opts.benchListen });
    this.controlPlane = await ControlPlane.start(this.db.pool, this.redisServer.url(), this.gateway.metricsUrl);
    if (this.opts.worker !== undefined) this.worker = this.startWorker();
  }

  /** Another order worker on this stack (e.g. after one was killed). */
  startWorker(env: Record<string, string> = {}): WorkerProcess {
    return startWorker({
      redisUrl: this.redisServer.url(),
      databaseUrl: this.db.url,
      name: this.opts.name,
      batchSize: this.opts.worker?.batchSize,
      env,
    });
  }

  /** Stops everything that started, in reverse order; answers how the worker exited. */
  async stop(): Promise<WorkerExit | undefined> {
    const workerExit = await this.worker?.stop();
    await this.gateway?.stop();
    await this.controlPlane?.stop();
    this.redis?.disconnect();
    await this.db?.close();
    await this.redisServer?.destroy();
    return workerExit;
  }
}
