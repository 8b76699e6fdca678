/**
 * Configuration from environment variables (documented in .env.example and docs/operations.md).
 * Each service reads what it needs; a bad or missing value stops it with a message naming it.
 */
import { z } from "zod";
import { DEFAULT_PG_TIMEOUTS } from "./postgres";
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from "./redis";

const port = z.coerce.number().int().min(1).max(65535);
const positive = z.coerce.number().positive();
const whole = z.coerce.number().int().min(0);

const schema = z.object({
  FS_REDIS_URL: z.string().startsWith("redis://").default("redis://127.0.0.1:6379/0"),
  // Set (host:port,…): a Redis Cluster's nodes, and FS_REDIS_URL is not used.
  FS_REDIS_CLUSTER_NODES: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.string().regex(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, "must be host:port,host:port,…").optional(),
  ),
  // How long the services wait for one Redis reply before the call fails (a stalled Redis).
  FS_REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(1).default(DEFAULT_REDIS_COMMAND_TIMEOUT_MS),
  FS_DATABASE_URL: z.string().startsWith("postgres"),
  // Bounds on the services' Postgres sessions (postgres.ts), in ms; 0: none.
  FS_PG_LOCK_TIMEOUT_MS: whole.default(DEFAULT_PG_TIMEOUTS.lockTimeoutMs),
  FS_PG_STATEMENT_TIMEOUT_MS: whole.default(DEFAULT_PG_TIMEOUTS.statementTimeoutMs),
  FS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: whole.default(DEFAULT_PG_TIMEOUTS.idleInTransactionMs),
  FS_JWT_SECRET: z.string().min(32, "must be at least 32 characters"),
  // The shop's identity provider (control plane): its JWKS, and what its tokens must claim. Empty: unset.
  FS_JWT_JWKS_URL: z.preprocess((v) => (v === "" ? undefined : v), z.url().optional()),
  FS_JWT_ISSUER: z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()),
  FS_JWT_AUDIENCE: z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()),
  // Clock skew allowed on exp and nbf, seconds (nbf gets at least 30).
  FS_JWT_LEEWAY_SECONDS: whole.default(0),
  // The key set is fetched at least this often (60 at most), and at most once per the minimum.
  FS_JWT_JWKS_REFRESH_SECONDS: z.coerce.number().int().min(1).max(60).default(60),
  FS_JWT_JWKS_MIN_REFRESH_SECONDS: z.coerce.number().int().min(1).default(5),
  // The admin API's bootstrap credential (acts as the admin "bootstrap"); empty, unset or "off": none.
  FS_ADMIN_TOKEN: z.preprocess((v) => (v === "" || v === "off" ? undefined : v), z.string().min(16, "must be at least 16 characters, or off").optional()),
  // The admin UI is served over TLS (a proxy in front): its cookies are Secure.
  FS_ADMIN_COOKIE_SECURE: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  // Sign-in to the admin UI through the shop's OpenID provider (all four set) or not (all unset);
  // the redirect URL is this control plane's /admin/oidc/callback as browsers reach it. With a
  // role claim, the claim names each operator's role at sign-in.
  FS_ADMIN_OIDC_ISSUER: z.preprocess((v) => (v === "" ? undefined : v), z.url().optional()),
  FS_ADMIN_OIDC_CLIENT_ID: z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()),
  FS_ADMIN_OIDC_CLIENT_SECRET: z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()),
  FS_ADMIN_OIDC_REDIRECT_URL: z.preprocess((v) => (v === "" ? undefined : v), z.url().optional()),
  FS_ADMIN_OIDC_ROLE_CLAIM: z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()),
  FS_GATEWAY_PORT: port.default(8080),
  FS_ADMIN_PORT: port.default(3000),
  FS_ADMIN_HOST: z.string().default("127.0.0.1"),
  FS_GATEWAY_METRICS_URL: z.url().default("http://127.0.0.1:9145/metrics"),
  FS_DEFAULT_USER_RATE_PER_SECOND: positive.default(5),
  FS_DEFAULT_USER_BURST: whole.default(5),
  // Unset (or empty): the control plane has no payment webhook.
  FS_PAYMENT_WEBHOOK_SECRET: z.preprocess((v) => (v === "" ? undefined : v), z.string().min(32, "must be at least 32 characters").optional()),
  FS_PAYMENT_WEBHOOK_SKEW_SECONDS: z.coerce.number().int().min(1).default(300),
  // The shop's webhooks (control-plane/src/webhooks): endpoints on private addresses allowed,
  // how long a failing delivery is retried before its endpoint is disabled, its backoff, one
  // attempt's timeout, deliveries in flight per control plane, the outbox poll when idle, how
  // long a delivered event stays in the outbox.
  FS_WEBHOOK_ALLOW_PRIVATE_URLS: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  FS_WEBHOOK_RETRY_FOR_SECONDS: z.coerce.number().int().min(1).default(86400),
  FS_WEBHOOK_BACKOFF_BASE_MS: z.coerce.number().int().min(1).default(5000),
  FS_WEBHOOK_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(3_600_000),
  FS_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(1).default(10000),
  FS_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
  FS_WEBHOOK_POLL_MS: z.coerce.number().int().min(1).default(250),
  FS_WEBHOOK_RETENTION_DAYS: positive.default(7),
  FS_WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(10000).default(1000),
  FS_WORKER_BLOCK_MS: whole.default(1000),
  FS_WORKER_CLAIM_IDLE_MS: whole.default(30000),
  FS_WORKER_BACKOFF_MAX_MS: positive.default(5000),
  FS_WORKER_MAX_DELIVERIES: z.coerce.number().int().min(1).default(5),
  FS_WORKER_NAME: z.string().optional(),
  FS_WORKER_METRICS_HOST: z.string().default("127.0.0.1"),
  // 0: any free port (tests); the worker logs the one it got.
  FS_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  FS_LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});

export type Env = z.infer<typeof schema>;
export type EnvName = keyof Env;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Reads and checks the named variables from `source` (process.env by default). */
export function readEnv<K extends EnvName>(names: readonly K[], source: NodeJS.ProcessEnv = process.env): Pick<Env, K> {
  const mask: { [name: string]: true } = Object.fromEntries(names.map((n) => [n, true]));
  const result = schema.pick(mask as never).safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}\n(see .env.example)`);
  }
  return result.data as unknown as Pick<Env, K>;
}
