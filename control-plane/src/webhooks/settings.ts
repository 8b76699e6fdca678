/** The webhook knobs (node-common env, FS_WEBHOOK_*) as the dispatcher takes them. */
import type { Env } from "@flash-sale/node-common";
import type { DispatcherSettings } from "./dispatcher";

export const WEBHOOK_ENV = [
  "FS_WEBHOOK_ALLOW_PRIVATE_URLS",
  "FS_WEBHOOK_RETRY_FOR_SECONDS",
  "FS_WEBHOOK_BACKOFF_BASE_MS",
  "FS_WEBHOOK_BACKOFF_MAX_MS",
  "FS_WEBHOOK_TIMEOUT_MS",
  "FS_WEBHOOK_CONCURRENCY",
  "FS_WEBHOOK_POLL_MS",
  "FS_WEBHOOK_RETENTION_DAYS",
] as const;

export function dispatcherSettings(env: Pick<Env, (typeof WEBHOOK_ENV)[number]>): DispatcherSettings {
  return {
    allowPrivateUrls: env.FS_WEBHOOK_ALLOW_PRIVATE_URLS,
    retryForMs: env.FS_WEBHOOK_RETRY_FOR_SECONDS * 1000,
    backoff: { baseMs: env.FS_WEBHOOK_BACKOFF_BASE_MS, maxMs: env.FS_WEBHOOK_BACKOFF_MAX_MS },
    timeoutMs: env.FS_WEBHOOK_TIMEOUT_MS,
    concurrency: env.FS_WEBHOOK_CONCURRENCY,
    pollMs: env.FS_WEBHOOK_POLL_MS,
  };
}
