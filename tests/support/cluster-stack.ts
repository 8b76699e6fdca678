/**
 * One test file's stack on a private six-node Redis Cluster: the cluster, a database, two
 * gateways, the control plane in-process and order workers in one consumer group. Stopping is
 * safe after a partial start and tells how the workers exited.
 */
import type { Redis } from "@flash-sale/node-common";
import { ControlPlane } from "./control-plane";
import { Gateway, LOAD_TEST_KNOBS } from "./gateway";
import { PrivateCluster } from "./private-cluster";
import { startWorker, type WorkerExit, type WorkerProcess } from "./stream-fixtures";
import { createTestDatabase, type TestDatabase } from "./test-database";

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

  static async start(opts: ClusterStackOptions): Promise<ClusterStack> {
    const stack = new ClusterStack();
    try {
      stack.cluster = await PrivateCluster.start();
      stack.redis = stack.cluster.client("test");
      stack.db = await createTestDatabase(opts.name);
      const { url, nodes } = stack.cluster;
      stack.gateways = await Promise.all([0, 1].map(() => Gateway.start({ redisUrl: url, clusterNodes: nodes, knobs: { ...LOAD_TEST_KNOBS, ...opts.knobs } })));
      stack.controlPlane = await ControlPlane.start(stack.db.pool, url, stack.gateways[0]!.metricsUrl, nodes);
      stack.workers = opts.workers.map((name) =>
        startWorker({ redisUrl: url, databaseUrl: stack.db.url, name, batchSize: 100, env: { FS_REDIS_CLUSTER_NODES: nodes } }),
      );
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  async stop(): Promise<WorkerExit[]> {
    const exits = await Promise.all(this.workers.map((w) => w.stop()));
    for (const g of this.gateways) await g.stop();
    await this.controlPlane?.stop();
    this.redis?.disconnect();
    await this.db?.close();
    await this.cluster?.destroy();
    return exits;
  }
}
