export { readEnv, ConfigError, type Env, type EnvName } from "./env";
export { createLogger, type Logger } from "./logger";
export { createRedis, DEFAULT_REDIS_COMMAND_TIMEOUT_MS, type Redis } from "./redis";
export { RedisScript, SCRIPTS_DIR, type MoreValues, type ScriptClient } from "./redis-script";
export { createPool, DEFAULT_PG_TIMEOUTS, type Pool, type PoolClient, type SessionTimeouts } from "./postgres";
export { migrate, MIGRATIONS_DIR } from "./migrate";
export { onShutdown } from "./shutdown";
export { createMetricsRegistry, serveMetrics, counter, gauge, Counter, Gauge, Histogram, Registry, type MetricsListener } from "./metrics";
export { streamGroup, streamGroups, xinfoFields, type StreamGroup } from "./stream-groups";
