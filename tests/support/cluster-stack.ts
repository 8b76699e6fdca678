/**
 * One test file's stack on a private six-node Redis Cluster: the cluster, a database, two
 * gateways, the control plane in-process and order workers in one consumer group. Stopping is
 * safe after a partial start, and twice, and tells how the workers exited.
 */
import type { Redis } from "@flash-sale/node-common";
import { ControlPlane } from "./control-plane";
import { Gateway, LOAD_TEST_KNOBS } from "./gateway";
import { PrivateCluster } from "./private-cluster";
import { startWorker, type WorkerExit, type WorkerProcess } from "./stream-fixtures";
import { createTestDatabase, type TestDatabase } from "./test-database";
import { Stoppers } from "./test-stack";

export interface ClusterStackOptions {
  /** Names the database. */
  name: string;
  /** Consumer names of the order workers to start. */
  workers: string[];
  /** Gateway knobs on top of LOAD_TEST_KNOBS (e.g. redis_wait_replicas for the replica-acknowledged mode). */
  knobs?: Record<string, string>;
}

export class ClusterStack {
  cluster!: PrivateCluster;
  redis!: Redis;
  db!: TestDatabase;
  gateways: Gateway[] = [];
  controlPlane!: ControlPlane;
  workers: WorkerProcess[] = [];
  private readonly parts = new Stoppers();

  constructor(private readonly opts: ClusterStackOptions) {}

  /** Starts the parts; after a failure stops what started and throws. */
  async start(): Promise<void> {
    const { opts, parts } = this;
    try {
      this.cluster = await PrivateCluster.start();
      parts.onStop(() => this.cluster.destroy());
      this.redis = this.cluster.client("test");
      parts.onStop(() => this.redis.disconnect());
      this.db = await createTestDatabase(opts.name);
      parts.onStop(() => this.db.close());
      const { url, nodes } = this.cluster;
      for (let i = 0; i < 2; i++) {
        const gateway = await Gateway.start({ redisUrl: url, clusterNodes: nodes, knobs: { ...LOAD_TEST_KNOBS, ...opts.knobs } });
        parts.onStop(() => gateway.stop());
        this.gateways.push(gateway);
      }
      this.controlPlane = await ControlPlane.start(this.db.pool, url, this.gateways[0]!.metricsUrl, nodes);
      parts.onStop(() => this.controlPlane.stop());
      for (const name of opts.workers) {
        const worker = startWorker({ redisUrl: url, databaseUrl: this.db.url, name, batchSize: 100, env: { FS_REDIS_CLUSTER_NODES: nodes } });
        parts.onStopWorker(worker);
        this.workers.push(worker);
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops everything that started, the last first; answers how the workers exited. */
  stop(): Promise<WorkerExit[]> {
    return this.parts.stopAll();
  }
}
