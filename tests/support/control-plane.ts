/** The real control plane (Express admin API) in-process on a free port, for publishing sales in tests. */
import type { Server } from "node:http";
import { createLogger, createRedis, DEFAULT_REDIS_COMMAND_TIMEOUT_MS, type Pool, type Redis } from "@flash-sale/node-common";
import { createAdminApp } from "../../control-plane/src/api/app";
import { saleJobs } from "../../control-plane/src/jobs/sale-jobs";
import { ControlPlaneMetrics } from "../../control-plane/src/metrics";
import type { JobScheduler } from "../../control-plane/src/jobs/scheduler";
import { SalePublisher } from "../../control-plane/src/projection/publisher";
import { SaleRepository } from "../../control-plane/src/store/sale-repository";
import { SaleBuilder } from "../../control-plane/src/projection/sale-builder";

export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";
/** For control planes without a gateway: nothing listens there, so the live page shows no requests. */
export const NO_GATEWAY_METRICS = "http://127.0.0.1:9/metrics";
export const TEST_PAYMENT_WEBHOOK_SECRET = "test-payment-webhook-secret-0123456789";

export interface SaleInput {
  id?: string;
  name?: string;
  price?: number;
  stock: number;
  startsAt?: string;
  endsAt?: string;
  perUserLimit?: number;
  limits?: { userRatePerSecond?: number; userBurst?: number; admitPerSecond?: number; openUnpaidOrders?: number };
  [field: string]: unknown;
}

export interface AdminAnswer {
  status: number;
  body: any;
}

/** An admin API call to the control plane at `url` with the tests' token; the body as JSON when there is one. */
export async function adminCall(url: string, method: string, path: string, body?: unknown): Promise<AdminAnswer> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

export class ControlPlane {
  private jobs: JobScheduler | undefined;

  private constructor(
    private readonly server: Server,
    private readonly redis: Redis,
    private readonly pool: Pool,
    readonly url: string,
    private readonly metrics: ControlPlaneMetrics,
    private readonly gatewayMetricsUrl: string,
  ) {}

  /** `clusterNodes`: on this Redis Cluster (FS_REDIS_CLUSTER_NODES) instead of redisUrl's Redis. Redis commands time out as the service's do by default. */
  static async start(pool: Pool, redisUrl: string, gatewayMetricsUrl = NO_GATEWAY_METRICS, clusterNodes?: string): Promise<ControlPlane> {
    const redis = createRedis(redisUrl, "control-plane-test", clusterNodes, DEFAULT_REDIS_COMMAND_TIMEOUT_MS);
    const metrics = new ControlPlaneMetrics(redis, pool);
    const app = createAdminApp({
      metrics,
      pool,
      redis,
      adminToken: TEST_ADMIN_TOKEN,
      gatewayMetricsUrl,
      defaults: { limits: { userRatePerSecond: 5, userBurst: 5, admitPerSecond: 100000 } },
      logger: createLogger("control-plane-test", "silent"),
      paymentWebhook: { secret: TEST_PAYMENT_WEBHOOK_SECRET, skewSeconds: 300 },
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    return new ControlPlane(server, redis, pool, `http://127.0.0.1:${port}`, metrics, gatewayMetricsUrl);
  }

  /** Runs the control plane's scheduled jobs (rebuilds, expiry, reconciliation) as main.ts does; repairs count in its /metrics. */
  startJobs(): void {
    const logger = createLogger("control-plane-test-jobs", "silent");
    const repository = new SaleRepository(this.pool);
    const builder = new SaleBuilder(this.redis, repository, logger, (sale, reason) => this.metrics.saleBuilt(sale, reason));
    const publisher = new SalePublisher(this.redis, repository, builder);
    this.jobs ??= saleJobs({ redis: this.redis, pool: this.pool, repository, publisher, logger, gatewayMetricsUrl: this.gatewayMetricsUrl, onUnitsMoved: (sale, units) => this.metrics.unitsMovedBetweenBuckets(sale, units) });
    this.jobs.start();
  }

  /** Stops the scheduled jobs (startJobs starts them again): nothing rebuilds a sale meanwhile. */
  async stopJobs(): Promise<void> {
    await this.jobs?.stop();
  }

  /** Creates and publishes a sale; open now for an hour unless the input says otherwise. */
  async createSale(input: SaleInput): Promise<{ id: string; [field: string]: unknown }> {
    const now = Date.now();
    const body = {
      name: "Test sale",
      price: 199,
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
      deduction: "order",
      ...input,
    };
    const res = await fetch(`${this.url}/admin/api/sales`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { id: string };
    if (res.status !== 201) throw new Error(`creating a sale failed: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** Any admin API call; the body as JSON when there is one. */
  admin(method: string, path: string, body?: unknown): Promise<AdminAnswer> {
    return adminCall(this.url, method, path, body);
  }

  async stop(): Promise<void> {
    await this.jobs?.stop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.redis.disconnect();
  }
}
