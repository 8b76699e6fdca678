/**
 * Stock buckets: a hot sale's stock split over K Redis Cluster slots, so its purchases spread
 * over K primaries. Pure, for the gateway (through TSTL) and the Node services alike.
 *
 * - A shopper always buys from one bucket, picked by the CRC16 of the user id: the bucket's
 *   buyers hash then holds all of the shopper's units, so the per-user limit stays exact.
 * - Bucket b hands out the order numbers n with (n − 1) % K == b (b + 1 first, then its counter
 *   advances by K), so ids stay `<sale>.<epoch>.<n>`, unique across buckets, and an order's
 *   number names its bucket.
 * - Bucket 0 keeps the sale's own hash tag {sale:<id>} (K = 1 is the sale as it always was);
 *   bucket b ≥ 1 gets {sale:<id>/<b>.<j>}, with the smallest j whose slot lies in the b-th of K
 *   equal slot ranges counted on from bucket 0's range. A cluster made with
 *   `redis-cli --cluster create` gives its primaries equal ranges, so K buckets on K primaries
 *   sit on K different primaries.
 */
import { crc16, SLOT_COUNT } from "./cluster";

export const MAX_STOCK_BUCKETS = 16;

/** The bucket a shopper buys from, 0 ≤ b < buckets. User ids are ASCII (ids.ts): a character is a byte. */
export function bucketOfUser(userId: string, buckets: number): number {
  return buckets <= 1 ? 0 : crc16(userId) % buckets;
}

/** The bucket that handed out order number `orderNo` (≥ 1). */
export function bucketOfOrderNo(orderNo: number, buckets: number): number {
  return buckets <= 1 ? 0 : (orderNo - 1) % buckets;
}

/** The first order number bucket `bucket` hands out; then every buckets-th (its counter, a purchase's step). */
export function firstOrderNo(bucket: number): number {
  return bucket + 1;
}

function rangeOf(slot: number, buckets: number): number {
  return Math.floor((slot * buckets) / SLOT_COUNT);
}

/** The hash tag (without braces) of bucket `bucket` of a sale split in `buckets`. */
export function bucketTag(saleId: string, bucket: number, buckets: number): string {
  const base = "sale:" + saleId;
  if (bucket === 0 || buckets <= 1) return base;
  const wanted = (rangeOf(crc16(base) % SLOT_COUNT, buckets) + bucket) % buckets;
  const prefix = base + "/" + bucket + ".";
  // One slot in K matches: the first j is found within a few K tries (a cap keeps it finite).
  for (let j = 0; j < 64 * SLOT_COUNT; j++) {
    if (rangeOf(crc16(prefix + j) % SLOT_COUNT, buckets) === wanted) return prefix + j;
  }
  return prefix + "0";
}

/** Orders a bucket's counter has handed out: its numbers from firstOrderNo(bucket) up to `counter`, every buckets-th (0: none). */
export function ordersOfCounter(counter: number, bucket: number, buckets: number): number {
  if (counter <= 0) return 0;
  return buckets <= 1 ? counter : Math.floor((counter - firstOrderNo(bucket)) / buckets) + 1;
}

/** `total` units split over `buckets`: the first ones get one more when it does not divide. */
export function evenShares(total: number, buckets: number): number[] {
  const shares: number[] = [];
  for (let b = 0; b < buckets; b++) shares.push(Math.floor(total / buckets) + (b < total % buckets ? 1 : 0));
  return shares;
}
