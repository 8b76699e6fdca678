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
} from "@flash-sale/node-common";
import { createAdminApp } from "./app";

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

async function main(): Promise<void> {
  const env = readEnv([
    "FS_DATABASE_URL",
    "FS_REDIS_URL",
    "FS_ADMIN_TOKEN",
    "FS_ADMIN_PORT",
    "FS_ADMIN_HOST",
    "FS_DEFAULT_USER_RATE_PER_SECOND",
    "FS_DEFAULT_USER_BURST",
    "FS_DEFAULT_ADMIT_PER_SECOND",
    "FS_LOG_LEVEL",
  ]);
  const logger = createLogger("control-plane", env.FS_LOG_LEVEL);
  const pool = createPool(env.FS_DATABASE_URL);
  const applied = await migrate(pool);
  if (applied.length > 0) logger.info({ applied }, "migrations applied");
  const redis = createRedis(env.FS_REDIS_URL, "control-plane");
  redis.on("error", (err: unknown) => logger.warn({ err }, "redis connection error"));

  const app = createAdminApp({
    pool,
    redis,
    adminToken: env.FS_ADMIN_TOKEN,
    defaults: {
      limits: {
        userRatePerSecond: env.FS_DEFAULT_USER_RATE_PER_SECOND,
        userBurst: env.FS_DEFAULT_USER_BURST,
        admitPerSecond: env.FS_DEFAULT_ADMIT_PER_SECOND,
      },
    },
    logger,
  });
  const server = createServer(app);
  await listen(server, env.FS_ADMIN_PORT, env.FS_ADMIN_HOST);
  logger.info({ host: env.FS_ADMIN_HOST, port: env.FS_ADMIN_PORT }, "admin API listening");

  onShutdown(logger, async () => {
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
