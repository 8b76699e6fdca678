/**
 * One test file's stack, started once and stopped once: its own Redis, its own database on
 * the machine's Postgres, the control plane in-process, a real gateway (nginx + compiled Lua)
 * and, when asked for, the order worker; without the gateway or the control plane where a file
 * tests the rest. What a file starts beside them (another gateway, an admin app, a browser) is
 * stopped with them. Stopping is safe after a partial start, and twice.
 */
import { createRedis, type Redis } from "@flash-sale/node-common";
import { Gateway } from "./gateway";
import { PrivateRedis, type AppendFsync } from "./private-redis";
import { createTestDatabase, migratedDatabase, type TestDatabase } from "./test-database";
import { PrivatePostgres } from "./private-postgres";
import { ControlPlane } from "./control-plane";
import { serveAdminApp, type ServedApp } from "./admin-app";
import { startWorker, type WorkerExit, type WorkerProcess } from "./stream-fixtures";
import type { AdminAppDeps } from "../../control-plane/src/api/app";

export interface TestStackOptions {
  /** Names the database and the worker. */
  name: string;
  /** nginx knob overrides (see nginx-conf/knobs.conf). */
  knobs?: Record<string, string>;
  /** Keep Redis data across a kill and restart (AOF). */
  persistentRedis?: boolean;
  /** With persistentRedis: when the AOF is fsynced (default `always`). */
  appendfsync?: AppendFsync;
  /** Start the order worker, with this batch size and consumer name (default `name`). */
  worker?: { batchSize?: number; name?: string };
  /** Also listen for the benchmark's ceilings (Gateway.benchPort). */
  benchListen?: boolean;
  /** false: no database (nor control plane); "private": on a Postgres of its own (`postgres`), which the test may stop and start. */
  database?: false | "private";
  /** false: no gateway (the control plane's own tests). */
  gateway?: false;
  /** false: no control plane in-process. */
  controlPlane?: false;
}

/** What a stack started, stopped the last first, each even when one before it fails; and how its workers exited. */
export class Stoppers {
  private readonly stoppers: (() => unknown)[] = [];
  private readonly exits: WorkerExit[] = [];
  private stopping: Promise<WorkerExit[]> | undefined;

  onStop(stop: () => unknown): void {
    this.stoppers.push(stop);
  }

  /** A worker that started: its exit is answered by stopAll. */
  onStopWorker(worker: WorkerProcess): void {
    this.onStop(async () => this.exits.push(await worker.stop()));
  }

  /** Stops once, however often it is called. */
  stopAll(): Promise<WorkerExit[]> {
    this.stopping ??= (async () => {
      const errors: unknown[] = [];
      for (const stop of this.stoppers.reverse()) await Promise.resolve().then(stop).catch((err: unknown) => errors.push(err));
      if (errors.length > 0) throw errors[0];
      return this.exits;
    })();
    return this.stopping;
  }
}

export class TestStack {
  redisServer!: PrivateRedis;
  redis!: Redis;
  db!: TestDatabase;
  /** With `database: "private"`. */
  postgres!: PrivatePostgres;
  controlPlane!: ControlPlane;
  gateway!: Gateway;
  worker: WorkerProcess | undefined;
  private readonly parts = new Stoppers();

  constructor(private readonly opts: TestStackOptions) {}

  static async start(opts: TestStackOptions): Promise<TestStack> {
    const stack = new TestStack(opts);
    await stack.start();
    return stack;
  }

  /** Starts the parts; after a failure stops what started and throws. */
  async start(): Promise<void> {
    try {
      await this.startParts();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async startParts(): Promise<void> {
    const { opts, parts } = this;
    this.redisServer = await PrivateRedis.start({ persistent: opts.persistentRedis, appendfsync: opts.appendfsync });
    parts.onStop(() => this.redisServer.destroy());
    this.redis = createRedis(this.redisServer.url(), "test");
    parts.onStop(() => this.redis.disconnect());
    if (opts.database === "private") {
      this.postgres = await PrivatePostgres.start();
      parts.onStop(() => this.postgres.destroy());
      this.db = await migratedDatabase(this.postgres.url());
      parts.onStop(() => this.db.close());
    } else if (opts.database !== false) {
      this.db = await createTestDatabase(opts.name.replace(/-/g, "_"));
      parts.onStop(() => this.db.close());
    }
    if (opts.gateway !== false) {
      this.gateway = await Gateway.start({ redisUrl: this.redisServer.url(), knobs: opts.knobs, benchListen: opts.benchListen });
      parts.onStop(() => this.gateway.stop());
    }
    if (opts.controlPlane !== false) {
      this.controlPlane = await ControlPlane.start(this.db.pool, this.redisServer.url(), this.gateway?.metricsUrl);
      parts.onStop(() => this.controlPlane.stop());
    }
    if (opts.worker !== undefined) {
      this.worker = this.startWorker();
      parts.onStopWorker(this.worker);
    }
  }

  /** Another order worker on this stack (e.g. after one was killed); its caller stops it. */
  startWorker(env: Record<string, string> = {}): WorkerProcess {
    return startWorker({
      redisUrl: this.redisServer.url(),
      databaseUrl: this.db.url,
      name: this.opts.worker?.name ?? this.opts.name,
      batchSize: this.opts.worker?.batchSize,
      env,
    });
  }

  /** Another gateway on this stack's Redis, stopped with it. */
  async startGateway(knobs: Record<string, string>): Promise<Gateway> {
    const gateway = await Gateway.start({ redisUrl: this.redisServer.url(), knobs });
    this.onStop(() => gateway.stop());
    return gateway;
  }

  /** The admin app in-process on this stack's database and Redis, closed with it. */
  async serveAdminApp(deps: Partial<AdminAppDeps> = {}): Promise<ServedApp> {
    const served = await serveAdminApp({ pool: this.db.pool, redis: this.redis, ...deps });
    this.onStop(() => served.close());
    return served;
  }

  /** Stops `stop` with the stack, before its own parts. */
  onStop(stop: () => unknown): void {
    this.parts.onStop(stop);
  }

  /** Stops everything that started, the last first; answers how the stack's worker exited (none: []). */
  stop(): Promise<WorkerExit[]> {
    return this.parts.stopAll();
  }
}
