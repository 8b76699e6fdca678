/** The Redis client the Node services use: one Redis, or a Redis Cluster. */
import { Cluster, Redis as SingleRedis } from "ioredis";

/**
 * Either client; the commands the services send are the same on both, and every multi-key
 * command they send stays within one hash tag (one slot).
 */
export type Redis = SingleRedis | Cluster;

/**
 * Commands fail fast while Redis is down (callers retry with their own backoff) instead of
 * piling up in ioredis's offline queue.
 */
const CLIENT_OPTIONS = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: true,
  retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2000),
  lazyConnect: false,
};

/** FS_REDIS_COMMAND_TIMEOUT_MS as shipped: the services' bound on one command's reply. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 5000;

/**
 * A client for FS_REDIS_URL, or, when `clusterNodes` (FS_REDIS_CLUSTER_NODES, "host:port,…")
 * is given, for the Redis Cluster those nodes belong to: ioredis then routes each command to
 * its slot's primary and follows MOVED/ASK and failovers.
 *
 * `commandTimeoutMs` bounds the wait for each reply, so a Redis that stalls (a frozen host)
 * fails the call rather than holding it until Redis goes on. A command that timed out may
 * still run later, which leaves what a service killed right after sending it would: the
 * services recover from that (changes ordered by revision, repeats harmless, leases expire).
 */
export function createRedis(url: string, name: string, clusterNodes?: string, commandTimeoutMs?: number): Redis {
  const options = { connectionName: name, ...CLIENT_OPTIONS, ...(commandTimeoutMs === undefined ? {} : { commandTimeout: commandTimeoutMs }) };
  if (clusterNodes === undefined || clusterNodes === "") return new SingleRedis(url, options);
  const nodes = clusterNodes.split(",").map((node) => {
    const colon = node.lastIndexOf(":");
    return { host: node.slice(0, colon), port: Number(node.slice(colon + 1)) };
  });
  return new Cluster(nodes, {
    redisOptions: options,
    clusterRetryStrategy: CLIENT_OPTIONS.retryStrategy,
    enableOfflineQueue: true,
    // A failed primary is replaced within seconds: ask for the new map soon and often.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
  });
}
