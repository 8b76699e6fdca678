/**
 * The gateway's settings, read once per nginx master at init_by_lua from the environment
 * (each name is listed with `env` in nginx.conf: nginx clears the rest).
 */
import { parseClusterNodes } from "@flash-sale/contract/cluster";
import { parseRedisUrl, type RedisAddress } from "@flash-sale/contract/redis_url";

export interface GatewaySettings {
  redis: RedisAddress;
  /** FS_REDIS_CLUSTER_NODES, "host:port" each: a Redis Cluster's seeds; undefined: the one Redis of `redis`. */
  redisClusterNodes: string[] | undefined;
  jwtSecret: string;
  redisConnectTimeoutMs: number;
  /** Send and read timeout of each Redis command. */
  redisTimeoutMs: number;
  redisPoolSize: number;
  /** Connects that queue for a pooled connection once redisPoolSize are open; 0 = no limit. */
  redisPoolBacklog: number;
  redisIdleTimeoutMs: number;
  /** Replicas that must acknowledge an accepted order before its 202 (WAIT); 0: none asked. */
  redisWaitReplicas: number;
  /** How long WAIT waits for them, ms. */
  redisWaitTimeoutMs: number;
  /** Directory holding the Redis scripts (redis-scripts/*.lua). */
  scriptDir: string;
  /** How long before a sale's start its challenges are issued, ms (0: from the start). */
  challengeLeadMs: number;
  /** Longest remaining lifetime of a shopper token the gateway accepts, seconds. */
  tokenMaxLifetimeSec: number;
  /** Signatures each worker remembers per kind (adapters/jwt_platform.ts); 0: none. */
  signatureMemoSize: number;
  /** Names this gateway in the fleet's registry (FS_GATEWAY_ID, else made at start). */
  gatewayId: string;
  /** Where the control plane reads this gateway's metrics (knob metrics_listen). */
  metricsUrl: string;
  /** The demo login route is on (knob dev_login): the pages offer its form. */
  devLogin: boolean;
  /** The shop's login page for the pages' link (knob shop_login_url). */
  shopLoginUrl: string;
}

/** The metrics listener as a URL another host can use: a wildcard address means this host's loopback. */
function metricsUrlOf(listen: string): string {
  const [host, port] = string.match(listen, "^(.-):?(%d+)$");
  const reachable = host === undefined || host === "" || host === "0.0.0.0" || host === "*" ? "127.0.0.1" : host;
  return "http://" + reachable + ":" + (port ?? listen) + "/metrics";
}

function numberFromEnv(name: string, fallback: number): number {
  const raw = os.getenv(name);
  if (raw === undefined || raw === "") return fallback;
  const n = tonumber(raw);
  if (n === undefined || n <= 0) error(name + " must be a positive number, got '" + raw + "'", 0);
  return n;
}

function nonNegativeFromEnv(name: string, fallback: number): number {
  const raw = os.getenv(name);
  if (raw === undefined || raw === "") return fallback;
  const n = tonumber(raw);
  if (n === undefined || n < 0) error(name + " must be a number, 0 or more, got '" + raw + "'", 0);
  return n;
}

function requiredFromEnv(name: string): string {
  const raw = os.getenv(name);
  if (raw === undefined || raw === "") error(name + " is not set (see .env.example)", 0);
  return raw;
}

export function readSettings(): GatewaySettings {
  const redis = parseRedisUrl(os.getenv("FS_REDIS_URL") ?? "redis://127.0.0.1:6379/0");
  if (typeof redis === "string") error(redis, 0);
  const clusterText = os.getenv("FS_REDIS_CLUSTER_NODES");
  const redisClusterNodes = clusterText === undefined || clusterText === "" ? undefined : parseClusterNodes(clusterText);
  if (typeof redisClusterNodes === "string") error(redisClusterNodes, 0);
  const jwtSecret = requiredFromEnv("FS_JWT_SECRET");
  if (jwtSecret.length < 32) error("FS_JWT_SECRET must be at least 32 characters", 0);
  return {
    redis,
    redisClusterNodes,
    jwtSecret,
    redisConnectTimeoutMs: numberFromEnv("FS_REDIS_CONNECT_TIMEOUT_MS", 100),
    redisTimeoutMs: numberFromEnv("FS_REDIS_TIMEOUT_MS", 500),
    redisPoolSize: numberFromEnv("FS_REDIS_POOL_SIZE", 64),
    redisPoolBacklog: nonNegativeFromEnv("FS_REDIS_POOL_BACKLOG", 1024),
    redisIdleTimeoutMs: numberFromEnv("FS_REDIS_IDLE_TIMEOUT_MS", 60000),
    redisWaitReplicas: nonNegativeFromEnv("FS_REDIS_WAIT_REPLICAS", 0),
    redisWaitTimeoutMs: numberFromEnv("FS_REDIS_WAIT_TIMEOUT_MS", 100),
    scriptDir: requiredFromEnv("FS_REDIS_SCRIPT_DIR"),
    challengeLeadMs: nonNegativeFromEnv("FS_CHALLENGE_LEAD_SECONDS", 0) * 1000,
    tokenMaxLifetimeSec: numberFromEnv("FS_JWT_MAX_LIFETIME_SECONDS", 86400),
    signatureMemoSize: nonNegativeFromEnv("FS_SIGNATURE_MEMO_SIZE", 50000),
    // init_by_lua runs in the master: its pid and start time name this nginx instance.
    gatewayId: os.getenv("FS_GATEWAY_ID") ?? string.format("gw-%d-%d", ngx.worker.pid(), ngx.now() * 1000),
    metricsUrl: metricsUrlOf(os.getenv("FS_GATEWAY_METRICS_LISTEN") ?? "127.0.0.1:9145"),
    devLogin: os.getenv("FS_DEV_LOGIN") === "on",
    shopLoginUrl: os.getenv("FS_SHOP_LOGIN_URL") ?? "",
  };
}

let current: GatewaySettings | undefined;

/** Reads the settings; called once from init_by_lua so a bad value stops nginx at start. */
export function loadSettings(): GatewaySettings {
  current = readSettings();
  return current;
}

export function settings(): GatewaySettings {
  if (current === undefined) error("gateway settings used before init", 0);
  return current;
}
