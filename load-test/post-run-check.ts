/**
 * After a load run: counts the sale's orders in Postgres against its stock and against what
 * Redis accepted (and, given a k6 summary, what k6 saw accepted and what it was told may have
 * been taken), once the order worker has drained. Exits 0 when the sale balances, 1 on oversell,
 * duplicates, loss or an order nobody was told of, 2 on bad usage.
 *
 *   FS_DATABASE_URL=… FS_REDIS_URL=… npx tsx load-test/post-run-check.ts --sale demo
 *     [--k6-summary summary.json] [--drain-timeout SECONDS]
 *
 * On a cluster, FS_REDIS_CLUSTER_NODES=host:port,… instead of FS_REDIS_URL (as the services take it).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { bucketKeysOf } from "@flash-sale/contract/keys";
import { createPool, createRedis, type Pool, type Redis } from "@flash-sale/node-common";

interface Counts {
  stock: number;
  perUserLimit: number;
  /** Redis: units left and taken, orders accepted by the purchase script. */
  left: number;
  sold: number;
  accepted: number;
  /** Postgres. */
  rows: number;
  units: number;
  /** Shoppers holding more units than perUserLimit, and order numbers written twice in one epoch. */
  overLimitShoppers: number;
  repeatedOrderNos: number;
}

async function count(pool: Pool, redis: Redis, saleId: string): Promise<Counts> {
  const sale = await pool.query<{ stock: number; per_user_limit: number; stock_buckets: number }>(
    "SELECT stock, per_user_limit, stock_buckets FROM sales WHERE id = $1",
    [saleId],
  );
  if (sale.rows[0] === undefined) throw new Error(`no sale ${saleId} in Postgres`);
  const { stock, per_user_limit: perUserLimit, stock_buckets: buckets } = sale.rows[0];
  // Summed over the sale's stock buckets (one MGET and one HLEN per bucket: one slot each).
  const parts = await Promise.all(
    bucketKeysOf(saleId, buckets).map(async (k) => Promise.all([redis.mget(k.stock, k.sold), redis.hlen(k.orders)])),
  );
  const left = parts.reduce((n, [[l]]) => n + Number(l ?? 0), 0);
  const sold = parts.reduce((n, [[, s]]) => n + Number(s ?? 0), 0);
  const orderFields = parts.reduce((n, [, f]) => n + f, 0);
  const pg = await pool.query<{ rows: number; units: number; over: number; repeated: number }>(
    `SELECT count(*)::int AS rows, COALESCE(sum(quantity), 0)::int AS units,
            (SELECT count(*)::int FROM (SELECT user_id FROM orders WHERE sale_id = $1
                                        GROUP BY user_id HAVING sum(quantity) > $2) o) AS over,
            count(*)::int - count(DISTINCT (epoch, order_no))::int AS repeated
       FROM orders WHERE sale_id = $1`,
    [saleId, perUserLimit],
  );
  const r = pg.rows[0]!;
  return {
    stock,
    perUserLimit,
    left: Number(left ?? 0),
    sold: Number(sold ?? 0),
    // Each order is two fields of the orders hash: its record and its status.
    accepted: orderFields / 2,
    rows: r.rows,
    units: r.units,
    overLimitShoppers: r.over,
    repeatedOrderNos: r.repeated,
  };
}

/** What is wrong with the sale, in words; empty when it balances. */
function problems(c: Counts, k6: K6Counts | undefined): string[] {
  const found: string[] = [];
  if (c.units > c.stock) found.push(`oversell: ${c.units} units in Postgres, stock ${c.stock}`);
  if (c.sold > c.stock || c.left < 0) found.push(`oversell in Redis: sold ${c.sold}, left ${c.left}, stock ${c.stock}`);
  if (c.left + c.sold !== c.stock) found.push(`Redis does not balance: left ${c.left} + sold ${c.sold} ≠ stock ${c.stock}`);
  if (c.overLimitShoppers > 0) found.push(`duplicates: ${c.overLimitShoppers} shopper(s) hold more than ${c.perUserLimit} unit(s)`);
  if (c.repeatedOrderNos > 0) found.push(`duplicates: ${c.repeatedOrderNos} order number(s) written twice`);
  if (c.rows < c.accepted) found.push(`loss: ${c.accepted - c.rows} order(s) accepted in Redis are not in Postgres`);
  if (c.rows > c.accepted) found.push(`${c.rows - c.accepted} order(s) in Postgres that Redis never accepted`);
  if (k6 !== undefined && c.rows < k6.accepted) found.push(`loss: k6 saw ${k6.accepted} accepted, Postgres holds ${c.rows}`);
  if (k6 !== undefined && c.rows > k6.accepted + k6.uncertain) {
    found.push(`untold: ${c.rows - k6.accepted - k6.uncertain} order(s) in Postgres that k6 was never told of (${k6.accepted} answered 202, ${k6.uncertain} may have been taken)`);
  }
  return found;
}

/** What k6 was told: 202s, and answers that may hide an order (load-test/k6/lib/purchase.ts). */
interface K6Counts {
  accepted: number;
  uncertain: number;
}

/** orders_accepted and orders_uncertain from `k6 run --summary-export=FILE`. */
function k6CountsFrom(file: string): K6Counts {
  const summary = JSON.parse(readFileSync(file, "utf8")) as { metrics?: Record<string, { count?: number }> };
  return { accepted: summary.metrics?.orders_accepted?.count ?? 0, uncertain: summary.metrics?.orders_uncertain?.count ?? 0 };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { sale: { type: "string" }, "k6-summary": { type: "string" }, "drain-timeout": { type: "string", default: "60" } },
  });
  const databaseUrl = process.env.FS_DATABASE_URL;
  if (values.sale === undefined || databaseUrl === undefined) {
    console.error("usage: FS_DATABASE_URL=… FS_REDIS_URL=… post-run-check.ts --sale ID [--k6-summary FILE] [--drain-timeout SECONDS]");
    return 2;
  }
  const k6 = values["k6-summary"] === undefined ? undefined : k6CountsFrom(values["k6-summary"]);
  const pool = createPool(databaseUrl, 1);
  const redis = createRedis(process.env.FS_REDIS_URL ?? "redis://127.0.0.1:6379/0", "post-run-check", process.env.FS_REDIS_CLUSTER_NODES);
  try {
    // The worker drains behind the gateway: wait until Postgres holds what Redis accepted.
    const deadline = Date.now() + Number(values["drain-timeout"]) * 1000;
    let c = await count(pool, redis, values.sale);
    while (c.rows < c.accepted && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      c = await count(pool, redis, values.sale);
    }
    console.log(JSON.stringify({ sale: values.sale, ...c, k6Accepted: k6?.accepted, k6Uncertain: k6?.uncertain }, null, 2));
    const found = problems(c, k6);
    for (const p of found) console.error(`FAIL ${p}`);
    if (found.length === 0) console.log(`OK: ${c.rows} orders, ${c.units} of ${c.stock} units, no duplicates, nothing lost`);
    return found.length === 0 ? 0 : 1;
  } finally {
    redis.disconnect();
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
