/**
 * A sale's slot migrated to another primary with `redis-cli --cluster reshard` while shoppers
 * buy through two gateways. During the move the gateways meet ASK, TRYAGAIN and then MOVED;
 * on the new node the fence names the old node's process, so the sale is held until the
 * control plane's job rebuilds it there. Answers are only 202, 410 or 503; nothing is sold
 * twice, no id is reused, no accepted order is lost (MIGRATE moves keys whole), and the stock
 * sells exactly once, counted in Redis and Postgres.
 */
import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { keySlot } from "@flash-sale/contract/cluster";
import { saleKeys } from "@flash-sale/contract/keys";
import { countSale, waitForRows } from "./support/counts";
import { waitForSale } from "./support/gateway";
import { attemptPurchase, type PurchaseAttempt } from "./support/http";
import { waitFor } from "./support/stream-fixtures";
import { ClusterStack } from "./support/cluster-stack";
import { useStack } from "./support/use-stack";

jest.setTimeout(120_000);

const run = promisify(execFile);
const STOCK = 300;

const stack = useStack(new ClusterStack({ name: "cluster_reshard", workers: ["reshard-worker"] }), async () => {
  stack.controlPlane.startJobs();
});

async function nodeId(port: number): Promise<string> {
  return stack.cluster.cli(port, "cluster", "myid");
}

test("a sale's slot resharded to another primary mid-rush: only 503s during the move, nothing sold twice, the stock sold exactly once", async () => {
  // reshard takes a source's lowest slots first: a sale on the first slot of a primary moves with --cluster-slots 1.
  const ranges = await stack.cluster.slotRanges();
  const from = ranges[0]!;
  const to = ranges.find((r) => r.primary !== from.primary)!;
  let saleId = "";
  for (let i = 0; saleId === ""; i++) if (keySlot(saleKeys(`reshard-${i}`).stock) === from.start) saleId = `reshard-${i}`;
  await stack.controlPlane.createSale({ id: saleId, stock: STOCK });
  for (const g of stack.gateways) await waitForSale(g, saleId);

  const attempts: PurchaseAttempt[] = [];
  let rushing = true;
  let shopper = 0;
  const rush = Array.from({ length: 8 }, async (_, loop) => {
    while (rushing) {
      const user = `reshard-shopper-${shopper++}`;
      attempts.push(await attemptPurchase(stack.gateways[loop % 2]!.url, saleId, user));
      await sleep(30);
    }
  });

  let movedAt = 0;
  try {
    await waitFor("sales before the move", () => attempts.filter((t) => t.status === 202).length >= 40);
    const started = Date.now();
    await run("redis-cli", [
      "--cluster", "reshard", `127.0.0.1:${from.primary}`,
      "--cluster-from", await nodeId(from.primary), "--cluster-to", await nodeId(to.primary),
      "--cluster-slots", "1", "--cluster-yes",
    ]);
    movedAt = Date.now();
    expect(await stack.cluster.primaryOf(keySlot(saleKeys(saleId).stock))).toBe(to.primary);
    console.log(`resharded slot ${from.start} (${saleId}) from :${from.primary} to :${to.primary} in ${movedAt - started} ms`);
    await waitFor("sales on the new primary", () => attempts.some((t) => t.sentAt > movedAt && t.status === 202), 30_000);
    await waitFor("the sale sold out", () => attempts.some((t) => t.sentAt > movedAt && t.status === 410), 60_000);
  } finally {
    rushing = false;
    await Promise.all(rush);
  }

  for (const t of attempts) expect([202, 410, 503]).toContain(t.status);
  for (const t of attempts.filter((t) => t.status === 503)) expect(t.error).toBe("unavailable");
  const accepted = attempts.filter((t) => t.status === 202);
  const ids = accepted.map((t) => t.orderId!);
  expect(new Set(ids).size).toBe(ids.length);
  console.log(`${accepted.length} accepted, ${attempts.filter((t) => t.status === 503).length} answered 503 during the move, ${attempts.length} attempts`);

  // Every 202 survives (MIGRATE moves keys whole), each unit sold once, to distinct shoppers.
  await waitForRows(stack.db.pool, saleId, STOCK, 30_000);
  const count = await countSale(stack.redis, stack.db.pool, saleId);
  expect(count).toMatchObject({ unitsLeft: 0, unitsSold: STOCK, pgRows: STOCK, pgDistinctUsers: STOCK, pgUnits: STOCK, pgDuplicateUsers: 0 });
  const { rows } = await stack.db.pool.query<{ order_id: string }>("SELECT order_id FROM orders WHERE sale_id = $1", [saleId]);
  const inPostgres = new Set(rows.map((r) => r.order_id));
  expect(ids.filter((id) => !inPostgres.has(id))).toEqual([]);
  expect(accepted.length).toBeLessThanOrEqual(STOCK);
});
