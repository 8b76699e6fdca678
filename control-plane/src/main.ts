/** The control plane's process: configuration, migrations, the admin API, graceful shutdown. */
import { createServer, type Server } from "node:http";
import {
  ConfigError,
  createLogger,
  createPool,
  createRedis,
  migrate,
  onShutdown,
  readEnv,
  type Env,
} from "@flash-sale/node-common";
import { KNOBS_FILE, readKnobs } from "@flash-sale/nginx-conf/build/knobs";
import { createAdminApp, type AdminAppDeps } from "./api/app";
import { parseFault } from "./faults";
import { JwksRefresher } from "./auth/jwks-refresher";
import { saleJobs } from "./jobs/sale-jobs";
import { ControlPlaneMetrics } from "./metrics";
import { SalePublisher } from "./projection/publisher";
import { SaleBuilder } from "./projection/sale-builder";
import { SaleRepository } from "./store/sale-repository";
import { WebhookDispatcher } from "./webhooks/dispatcher";
import { WebhookMetrics } from "./webhooks/metrics";
import { dispatcherSettings, WEBHOOK_ENV } from "./webhooks/settings";

/** The per-sale admission default lives with the gateway's knobs, where the gate runs. */
function defaultAdmitPerSecond(): number {
  const raw = readKnobs(KNOBS_FILE).default_admit_per_second;
  const n = Number(raw);
  if (raw === undefined || !(n > 0)) {
    throw new ConfigError(`knob default_admit_per_second in ${KNOBS_FILE} must be a number above 0, got '${raw}'`);
  }
  return n;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

/** The admin UI's OpenID sign-in: all of issuer, client id, secret and redirect URL, or none. */
function adminOidc(env: Pick<Env, "FS_ADMIN_OIDC_ISSUER" | "FS_ADMIN_OIDC_CLIENT_ID" | "FS_ADMIN_OIDC_CLIENT_SECRET" | "FS_ADMIN_OIDC_REDIRECT_URL" | "FS_ADMIN_OIDC_ROLE_CLAIM">): AdminAppDeps["oidc"] {
  const { FS_ADMIN_OIDC_ISSUER: issuer, FS_ADMIN_OIDC_CLIENT_ID: clientId, FS_ADMIN_OIDC_CLIENT_SECRET: clientSecret, FS_ADMIN_OIDC_REDIRECT_URL: redirectUrl } = env;
  const set = [issuer, clientId, clientSecret, redirectUrl].filter((v) => v !== undefined).length;
  if (set === 0) return undefined;
  if (set < 4) throw new ConfigError("FS_ADMIN_OIDC_ISSUER, FS_ADMIN_OIDC_CLIENT_ID, FS_ADMIN_OIDC_CLIENT_SECRET and FS_ADMIN_OIDC_REDIRECT_URL: set all four or none");
  return { issuer: issuer!, clientId: clientId!, clientSecret: clientSecret!, redirectUrl: redirectUrl!, roleClaim: env.FS_ADMIN_OIDC_ROLE_CLAIM };
}

async function main(): Promise<void> {
  const env = readEnv([
    "FS_DATABASE_URL",
    "FS_PG_LOCK_TIMEOUT_MS",
    "FS_PG_STATEMENT_TIMEOUT_MS",
    "FS_REDIS_URL",
    "FS_REDIS_CLUSTER_NODES",
    "FS_REDIS_COMMAND_TIMEOUT_MS",
    "FS_ADMIN_TOKEN",
    "FS_ADMIN_COOKIE_SECURE",
    "FS_ADMIN_OIDC_ISSUER",
    "FS_ADMIN_OIDC_CLIENT_ID",
    "FS_ADMIN_OIDC_CLIENT_SECRET",
    "FS_ADMIN_OIDC_REDIRECT_URL",
    "FS_ADMIN_OIDC_ROLE_CLAIM",
    "FS_ADMIN_PORT",
    "FS_ADMIN_HOST",
    "FS_GATEWAY_METRICS_URL",
    "FS_DEFAULT_USER_RATE_PER_SECOND",
    "FS_DEFAULT_USER_BURST",
    "FS_PAYMENT_WEBHOOK_SECRET",
    "FS_PAYMENT_WEBHOOK_SKEW_SECONDS",
    "FS_JWT_JWKS_URL",
    "FS_JWT_ISSUER",
    "FS_JWT_AUDIENCE",
    "FS_JWT_LEEWAY_SECONDS",
    "FS_JWT_JWKS_REFRESH_SECONDS",
    "FS_JWT_JWKS_MIN_REFRESH_SECONDS",
    "FS_LOG_LEVEL",
    ...WEBHOOK_ENV,
  ]);
  const parsedFault = parseFault(process.env.FS_CONTROL_PLANE_FAULT);
  if ("error" in parsedFault) throw new ConfigError(parsedFault.error);
  const { fault } = parsedFault;
  const logger = createLogger("control-plane", env.FS_LOG_LEVEL);
  const admitPerSecond = defaultAdmitPerSecond();
  if (process.env.FS_DEFAULT_ADMIT_PER_SECOND !== undefined) {
    logger.warn("FS_DEFAULT_ADMIT_PER_SECOND is ignored: set knob default_admit_per_second (nginx-conf/knobs.conf) or FS_NGINX_DEFAULT_ADMIT_PER_SECOND");
  }
  // No idle-in-transaction bound: a sale's transaction waits on Redis (its command timeout) before it commits.
  const pool = createPool(env.FS_DATABASE_URL, undefined, undefined, {
    lockTimeoutMs: env.FS_PG_LOCK_TIMEOUT_MS,
    statementTimeoutMs: env.FS_PG_STATEMENT_TIMEOUT_MS,
  });
  const applied = await migrate(pool);
  if (applied.length > 0) logger.info({ applied }, "migrations applied");
  const redis = createRedis(env.FS_REDIS_URL, "control-plane", env.FS_REDIS_CLUSTER_NODES, env.FS_REDIS_COMMAND_TIMEOUT_MS);
  redis.on("error", (err: unknown) => logger.warn({ err }, "redis connection error"));

  const metrics = new ControlPlaneMetrics(redis, pool);
  const repository = new SaleRepository(pool);
  const publisher = new SalePublisher(redis, repository, new SaleBuilder(redis, repository, logger, (sale, reason) => metrics.saleBuilt(sale, reason)));
  const app = createAdminApp({
    pool,
    redis,
    metrics,
    adminToken: env.FS_ADMIN_TOKEN,
    secureCookies: env.FS_ADMIN_COOKIE_SECURE,
    oidc: adminOidc(env),
    gatewayMetricsUrl: env.FS_GATEWAY_METRICS_URL,
    defaults: {
      limits: {
        userRatePerSecond: env.FS_DEFAULT_USER_RATE_PER_SECOND,
        userBurst: env.FS_DEFAULT_USER_BURST,
        admitPerSecond,
      },
    },
    logger,
    paymentWebhook:
      env.FS_PAYMENT_WEBHOOK_SECRET === undefined
        ? undefined
        : { secret: env.FS_PAYMENT_WEBHOOK_SECRET, skewSeconds: env.FS_PAYMENT_WEBHOOK_SKEW_SECONDS },
    fault,
    webhooks: { allowPrivateUrls: env.FS_WEBHOOK_ALLOW_PRIVATE_URLS },
  });
  if (env.FS_PAYMENT_WEBHOOK_SECRET === undefined) logger.warn("FS_PAYMENT_WEBHOOK_SECRET is not set: no payment webhook");
  const server = createServer(app);
  await listen(server, env.FS_ADMIN_PORT, env.FS_ADMIN_HOST);
  logger.info({ host: env.FS_ADMIN_HOST, port: env.FS_ADMIN_PORT }, "admin API listening");

  // Every instance schedules the jobs; each tick runs on one of them (a lock in Redis).
  const jobs = saleJobs({
    redis,
    pool,
    repository,
    publisher,
    logger,
    gatewayMetricsUrl: env.FS_GATEWAY_METRICS_URL,
    fault,
    onUnitsMoved: (sale, units) => metrics.unitsMovedBetweenBuckets(sale, units),
    webhookRetentionMs: env.FS_WEBHOOK_RETENTION_DAYS * 86_400_000,
  });
  jobs.start();
  const jwks = new JwksRefresher(
    redis,
    {
      url: env.FS_JWT_JWKS_URL,
      issuer: env.FS_JWT_ISSUER,
      audience: env.FS_JWT_AUDIENCE,
      leewaySeconds: env.FS_JWT_LEEWAY_SECONDS,
      refreshSeconds: env.FS_JWT_JWKS_REFRESH_SECONDS,
      minRefreshSeconds: env.FS_JWT_JWKS_MIN_REFRESH_SECONDS,
    },
    logger,
    metrics.registry,
  );
  jwks.start();
  // Every instance delivers the webhook outbox too; they share it (webhooks/dispatcher.ts).
  const dispatcher = new WebhookDispatcher({ pool, logger, settings: dispatcherSettings(env), metrics: new WebhookMetrics(metrics.registry, pool) });
  dispatcher.start();

  onShutdown(logger, async () => {
    await dispatcher.stop();
    await jwks.stop();
    await jobs.stop();
    await close(server);
    await redis.quit();
    await pool.end();
  });
}

main().catch((err: unknown) => {
  // Before the logger exists (bad configuration) or as the process dies: plain stderr.
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
