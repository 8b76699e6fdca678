/** The Redis client the Node services use. */
import { Redis } from "ioredis";

export { Redis };

/**
 * Commands fail fast while Redis is down (callers retry with their own backoff) instead of
 * piling up in ioredis's offline queue.
 */
export function createRedis(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    lazyConnect: false,
  });
}
