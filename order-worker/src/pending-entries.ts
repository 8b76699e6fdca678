/** The consumer group's pending entries list (XPENDING), which Redis keeps across worker restarts. */
import { saleKeys } from "@flash-sale/contract/keys";
import type { Redis } from "@flash-sale/node-common";
import type { BucketRef } from "./raw-entry";

/** A stream entry: entry ids are unique per sale's stream (per stock bucket's) only. */
export interface EntryRef extends BucketRef {
  saleId: string;
  entryId: string;
}

/** How many times the group has delivered each entry (reads and claims alike); 0 once acknowledged. */
export function deliveryCounts(redis: Redis, group: string, entries: EntryRef[]): Promise<number[]> {
  return Promise.all(
    entries.map(async ({ saleId, entryId, bucket, buckets }) => {
      // [[id, consumer, idle ms, deliveries]], or [] when the entry is not pending.
      const reply = (await redis.xpending(saleKeys(saleId, bucket, buckets).stream, group, entryId, entryId, 1)) as [string, string, number, number][];
      return reply[0]?.[3] ?? 0;
    }),
  );
}
