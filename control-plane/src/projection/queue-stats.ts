/** A sale's waiting room as Redis holds it (gateway-lua/redis-scripts/queue-tick.lua), for the admin live page. */
import type { Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/contract/keys";

export interface QueueStats {
  /** Shoppers in the queue. */
  length: number;
  /** Shoppers admitted so far (the cursor). */
  admitted: number;
  /** Admitted shoppers who bought (every buyer of this queue bought with a pass). */
  passesUsed: number;
  /** Passes that expired unused; their places went to the next shoppers. */
  passesExpired: number;
}

/** Undefined when the sale has no queue in Redis (no waiting room, or nobody joined yet). */
export async function readQueueStats(redis: Redis, saleId: string): Promise<QueueStats | undefined> {
  const k = saleKeys(saleId);
  // One slot: the keys carry the sale's hash tag.
  const [length, [cursor, expired, buyersBefore], buyers] = await Promise.all([
    redis.zcard(k.queue),
    redis.hmget(k.queueState, "cursor", "expired", "buyersBefore"),
    redis.hlen(k.buyers),
  ]);
  if (length === 0 && cursor === null) return undefined;
  // Buyers from before the queue's first advance (a sale rebuilt from Postgres) used no pass of it.
  const passesUsed = buyers - Number(buyersBefore ?? 0);
  return { length, admitted: Math.floor(Number(cursor ?? 0)), passesUsed, passesExpired: Number(expired ?? 0) };
}
