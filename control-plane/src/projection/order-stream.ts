/**
 * How a sale's order stream is being drained, read from Redis at one instant (MULTI on the
 * sale's slot): entries not yet acknowledged by the order workers' group, the age of the oldest
 * of them, the status changes (the other stream the workers drain) not yet acknowledged, and
 * the group's consumers with their idle time (XINFO CONSUMERS: the time since a
 * consumer last read or claimed). A worker reads every published sale's stream each second or
 * so, even when nothing is new, so a consumer idle longer than the limit is a dead worker.
 */
import { streamGroup, xinfoFields, type Redis, type StreamGroup } from "@flash-sale/node-common";
import { bucketKeysOf, ORDER_CONSUMER_GROUP, type SaleKeys } from "@flash-sale/contract/keys";
import { addCounters, saleCounterKeys, saleCountersOf, type SaleCounters } from "./sale-counters";

/** A consumer idle this long is not counted as a live worker (workers read every FS_WORKER_BLOCK_MS, 1 s by default). */
export const WORKER_IDLE_LIMIT_MS = 15_000;

export interface StreamConsumer {
  name: string;
  idleMs: number;
  pending: number;
}

export interface OrderStreamHealth {
  /** The sale's counters, read at the same instant. */
  counters: SaleCounters;
  /** Entries delivered and not acknowledged, plus entries not yet delivered. */
  unacknowledged: number;
  /** Status change entries not yet applied to Postgres and acknowledged (pending + lag). */
  statusesUnacknowledged: number;
  /** Age of the oldest unacknowledged entry by Redis' clock; null when none waits. */
  oldestUnacknowledgedMs: number | null;
  consumers: StreamConsumer[];
  /** Consumers idle less than the limit. */
  liveConsumers: string[];
}

type Reply = [Error | null, unknown];

const idMs = (id: string) => Number(id.split("-")[0]);

/** The workers' group of a stream (XINFO GROUPS); a missing stream or group is an error reply: nothing was ever delivered. */
const workersGroup = (groups: unknown) => streamGroup(groups, ORDER_CONSUMER_GROUP);

/** pending + lag; Redis cannot tell the lag once entries were deleted: every entry counts then. */
function unacknowledgedOf(group: StreamGroup | undefined, length: unknown): number {
  return group !== undefined && group.lag !== null ? group.pending + group.lag : Number(length ?? 0);
}

/** The sale's streams and counters, over its buckets (each bucket's read at one instant). */
export async function readOrderStream(redis: Redis, saleId: string, idleLimitMs = WORKER_IDLE_LIMIT_MS, buckets = 1): Promise<OrderStreamHealth> {
  const parts = await Promise.all(bucketKeysOf(saleId, buckets).map((k, b) => readBucketStream(redis, k, idleLimitMs, b, buckets)));
  if (parts.length === 1) return parts[0]!;
  const consumers = new Map<string, StreamConsumer>();
  for (const c of parts.flatMap((p) => p.consumers)) {
    const seen = consumers.get(c.name);
    consumers.set(c.name, seen === undefined ? { ...c } : { name: c.name, idleMs: Math.min(seen.idleMs, c.idleMs), pending: seen.pending + c.pending });
  }
  const oldest = parts.map((p) => p.oldestUnacknowledgedMs).filter((ms): ms is number => ms !== null);
  return {
    counters: parts.map((p) => p.counters).reduce(addCounters),
    unacknowledged: parts.reduce((n, p) => n + p.unacknowledged, 0),
    statusesUnacknowledged: parts.reduce((n, p) => n + p.statusesUnacknowledged, 0),
    oldestUnacknowledgedMs: oldest.length === 0 ? null : Math.max(...oldest),
    consumers: [...consumers.values()],
    liveConsumers: [...new Set(parts.flatMap((p) => p.liveConsumers))],
  };
}

async function readBucketStream(redis: Redis, k: SaleKeys, idleLimitMs: number, bucket: number, buckets: number): Promise<OrderStreamHealth> {
  const replies = (await redis
    .multi()
    .mget(saleCounterKeys(k))
    .xinfo("GROUPS", k.stream)
    .xinfo("CONSUMERS", k.stream, ORDER_CONSUMER_GROUP)
    .xpending(k.stream, ORDER_CONSUMER_GROUP)
    .xlen(k.stream)
    .xinfo("GROUPS", k.statusChanges)
    .xlen(k.statusChanges)
    .time()
    .exec()) as Reply[] | null;
  if (replies === null) throw new Error("order stream: MULTI aborted");
  const [[countsErr, counts], [, groups], [, consumerList], [, pendingSummary], [, length], [, statusGroups], [, statusLength], [timeErr, time]] =
    replies as Reply[] as [Reply, Reply, Reply, Reply, Reply, Reply, Reply, Reply];
  if (countsErr !== null || timeErr !== null) throw countsErr ?? timeErr;
  const [seconds, micros] = time as [string, string];
  const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);

  const group = workersGroup(groups);
  const pending = group?.pending ?? 0;
  const unacknowledged = unacknowledgedOf(group, length);

  const waitingSince: number[] = [];
  const smallestPending = Array.isArray(pendingSummary) ? pendingSummary[1] : null;
  if (typeof smallestPending === "string") waitingSince.push(idMs(smallestPending));
  if (unacknowledged > pending) {
    const from = group === undefined ? "-" : `(${group.lastDeliveredId}`;
    const [first] = (await redis.xrange(k.stream, from, "+", "COUNT", 1)) as [string, string[]][];
    if (first !== undefined) waitingSince.push(idMs(first[0]));
  }

  const consumers = (Array.isArray(consumerList) ? consumerList : []).map(xinfoFields).map((c) => ({
    name: String(c.get("name")),
    idleMs: Number(c.get("idle")),
    pending: Number(c.get("pending")),
  }));
  return {
    counters: saleCountersOf(counts as (string | null)[], bucket, buckets),
    unacknowledged,
    statusesUnacknowledged: unacknowledgedOf(workersGroup(statusGroups), statusLength),
    oldestUnacknowledgedMs: waitingSince.length === 0 ? null : Math.max(0, nowMs - Math.min(...waitingSince)),
    consumers,
    liveConsumers: consumers.filter((c) => c.idleMs < idleLimitMs).map((c) => c.name),
  };
}
