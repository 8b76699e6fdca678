/**
 * Counting a sale, the way every sale test ends: units left and sold, buyers, orders in
 * Redis, entries in the stream, rows and distinct buyers in Postgres.
 */
import { bucketKeysOf, GATEWAY_METRICS_URLS_KEY, GATEWAYS_KEY, ORDER_CONSUMER_GROUP, saleKeys } from "@flash-sale/contract/keys";
import { streamGroup, streamGroups, type Pool, type Redis } from "@flash-sale/node-common";

export interface SaleCount {
  unitsLeft: number;
  unitsSold: number;
  buyers: number;
  unitsGranted: number;
  redisOrders: number;
  streamEntries: number;
  pgRows: number;
  pgDistinctUsers: number;
  pgUnits: number;
  pgDuplicateUsers: number;
}

/** Redis' side summed over the sale's stock buckets (one bucket: the sale's own keys). */
export async function countSale(redis: Redis, pool: Pool, saleId: string, stockBuckets = 1): Promise<SaleCount> {
  const parts = await Promise.all(
    bucketKeysOf(saleId, stockBuckets).map((k) =>
      Promise.all([redis.get(k.stock), redis.get(k.sold), redis.hgetall(k.buyers), redis.hlen(k.orders), redis.xlen(k.stream)]),
    ),
  );
  const left = stockBuckets === 1 ? parts[0]![0] : parts.reduce((n, p) => n + Number(p[0]), 0);
  const sold = parts.reduce((n, p) => n + Number(p[1] ?? 0), 0);
  const buyers: Record<string, string> = Object.assign({}, ...parts.map((p) => p[2]));
  const orderFields = parts.reduce((n, p) => n + p[3], 0);
  const streamEntries = parts.reduce((n, p) => n + p[4], 0);
  const pg = await pool.query<{ rows: string; users: string; units: string | null; dup: string }>(
    `SELECT count(*) AS rows, count(DISTINCT user_id) AS users, sum(quantity) AS units,
            (SELECT count(*) FROM (SELECT user_id FROM orders WHERE sale_id = $1
                                   GROUP BY user_id HAVING count(*) > 1) d) AS dup
       FROM orders WHERE sale_id = $1`,
    [saleId],
  );
  const row = pg.rows[0]!;
  return {
    unitsLeft: Number(left),
    unitsSold: Number(sold ?? 0),
    buyers: Object.keys(buyers).length,
    unitsGranted: Object.values(buyers).reduce((a, b) => a + Number(b), 0),
    // Each order is two fields of the hash: its record and its status.
    redisOrders: orderFields / 2,
    streamEntries,
    pgRows: Number(row.rows),
    pgDistinctUsers: Number(row.users),
    pgUnits: Number(row.units ?? 0),
    pgDuplicateUsers: Number(row.dup),
  };
}

/** Waits until Postgres holds `expected` orders of the sale (the worker's drain), or throws. */
export async function waitForRows(pool: Pool, saleId: string, expected: number, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await pool.query<{ n: string }>("SELECT count(*) AS n FROM orders WHERE sale_id = $1", [saleId]);
    const n = Number(r.rows[0]!.n);
    if (n >= expected) return;
    if (Date.now() > deadline) throw new Error(`only ${n} of ${expected} orders of ${saleId} reached Postgres`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * Everything Redis and Postgres hold, to show that a refused request wrote nothing; `timerKeys`
 * are left out too (a waiting room's admission state, which the gateways' timers move).
 */
export async function snapshot(redis: Redis, pool: Pool, timerKeys: string[] = []): Promise<string> {
  // The gateways' check-ins (liveness, refreshed every second) are no state a request writes.
  const liveness = new Set([GATEWAYS_KEY, GATEWAY_METRICS_URLS_KEY, ...timerKeys]);
  const keys = (await redis.keys("*")).filter((k) => !liveness.has(k)).sort();
  const parts: string[] = [];
  for (const key of keys) parts.push(`${key}=${await keyState(redis, key)}`);
  const rows = await pool.query<{ n: string }>("SELECT count(*) AS n FROM orders");
  parts.push(`orders=${rows.rows[0]!.n}`);
  return parts.join("\n");
}

/**
 * A key's content. A stream's DUMP also holds its consumers' seen-times, which the worker's
 * reads move (a read of its own pending entries, whenever it finds a new sale) without
 * writing anything: a stream is its entries and its groups' positions instead.
 */
async function keyState(redis: Redis, key: string): Promise<string> {
  if ((await redis.type(key)) !== "stream") return (await redis.dumpBuffer(key))?.toString("base64") ?? "";
  const positions = streamGroups(await redis.call("XINFO", ["GROUPS", key])).map((g) => [g.name, g.pending, g.lastDeliveredId, g.entriesRead]);
  return JSON.stringify({ entries: await redis.xrange(key, "-", "+"), groups: positions });
}

/** Orders of a sale by status in Redis (its orders hash); pending and confirmed are counted as `openLabel`. */
export async function redisOrderStatuses(redis: Redis, saleId: string, openLabel: string): Promise<Record<string, number>> {
  const fields = await redis.hgetall(saleKeys(saleId).orders);
  const counts: Record<string, number> = {};
  for (const [field, value] of Object.entries(fields)) {
    if (!field.endsWith(":s")) continue;
    const status = value === "pending" || value === "confirmed" ? openLabel : value;
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

/** Orders of a sale by status in Postgres; confirmed is counted as `openLabel`. */
export async function postgresOrderStatuses(pool: Pool, saleId: string, openLabel: string): Promise<Record<string, number>> {
  const result = await pool.query<{ status: string; n: number }>(
    "SELECT status, count(*)::int AS n FROM orders WHERE sale_id = $1 GROUP BY status",
    [saleId],
  );
  return Object.fromEntries(result.rows.map((r) => [r.status === "confirmed" ? openLabel : r.status, r.n]));
}

/** The sale's status change stream: its entries (one per order paid, expired or failed), and those the workers have not acknowledged. */
export async function countStatusChanges(redis: Redis, saleId: string): Promise<{ entries: number; unacknowledged: number }> {
  const stream = saleKeys(saleId).statusChanges;
  const entries = await redis.xlen(stream);
  if (entries === 0) return { entries, unacknowledged: 0 };
  const group = streamGroup(await redis.call("XINFO", ["GROUPS", stream]), ORDER_CONSUMER_GROUP);
  return { entries, unacknowledged: group === undefined ? entries : group.pending + (group.lag ?? entries) };
}

/**
 * Waits until the order worker has applied every status change of the sale: Postgres holds the
 * statuses Redis holds and the status change stream has nothing left to acknowledge; or throws.
 */
export async function waitForStatuses(redis: Redis, pool: Pool, saleId: string, openLabel: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [inRedis, inPostgres, stream] = await Promise.all([
      redisOrderStatuses(redis, saleId, openLabel),
      postgresOrderStatuses(pool, saleId, openLabel),
      countStatusChanges(redis, saleId),
    ]);
    if (JSON.stringify(sorted(inRedis)) === JSON.stringify(sorted(inPostgres)) && stream.unacknowledged === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`statuses of ${saleId} not applied: Redis ${JSON.stringify(inRedis)}, Postgres ${JSON.stringify(inPostgres)}, ${stream.unacknowledged} unacknowledged`);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

function sorted(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1));
}

/**
 * The count of a balanced one-unit-per-shopper sale: `sold` units taken, each by a different
 * shopper, each one order in Redis, in the stream and in Postgres exactly once; `left` remain.
 */
export function balancedCount(sold: number, left: number): SaleCount {
  return {
    unitsLeft: left,
    unitsSold: sold,
    buyers: sold,
    unitsGranted: sold,
    redisOrders: sold,
    streamEntries: sold,
    pgRows: sold,
    pgDistinctUsers: sold,
    pgUnits: sold,
    pgDuplicateUsers: 0,
  };
}
