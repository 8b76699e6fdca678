/**
 * A waiting room whose Redis comes back empty (FLUSHALL) mid-queue, through the real gateway,
 * control plane jobs (keep-sales-built repairs the sale from Postgres, with a new epoch), order
 * worker and Postgres: every shopper's next poll answers 404 not_in_queue, passes from before
 * the loss buy nothing, buyers cannot queue again, the others join the new queue and it admits
 * again within the stock, and the sale is counted.
 */
import type { Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/contract/keys";
import type { QueueReply } from "@flash-sale/contract/waiting_room";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { countSale, waitForRows } from "./support/counts";
import { joinQueue, pollQueue, Shopper, sleep } from "./support/queue";
import { waitFor } from "./support/stream-fixtures";
import { readQueueStats } from "../control-plane/src/projection/queue-stats";

jest.setTimeout(180_000);

const stack = useStack(new TestStack({ name: "waiting_room_rebuild", knobs: LOAD_TEST_KNOBS, worker: { batchSize: 100 } }), async () => {
  stack.controlPlane.startJobs();
});

const limits = { userRatePerSecond: 100, userBurst: 100, admitPerSecond: 100000 };

/** The epoch in the sale's fence ("<run id>:<epoch>"), or undefined while it is not built. */
async function epochOf(saleId: string): Promise<number | undefined> {
  const fence = await stack.redis.hget(saleKeys(saleId).meta, "fence");
  return fence === null ? undefined : Number(fence.slice(41));
}

test("FLUSHALL mid-queue: polls answer not_in_queue, old passes and tickets are refused, the rebuilt queue admits within the stock; counted", async () => {
  const STOCK = 30;
  const SHOPPERS = 60;
  const BOUGHT_BEFORE = 10;
  const HOLDERS = 4;
  const saleId = "wr-rebuild";
  const startsAtMs = Math.ceil(Date.now() / 1000) * 1000 + 4000;
  await stack.controlPlane.createSale({
    id: saleId,
    stock: STOCK,
    startsAt: new Date(startsAtMs).toISOString(),
    endsAt: new Date(startsAtMs + 3_600_000).toISOString(),
    deduction: "order",
    limits,
    waitingRoom: { opensBeforeSeconds: 600, admitPerSecond: 20, passSeconds: 60 },
  });
  await waitForSale(stack.gateway, saleId);
  const shoppers = Array.from({ length: SHOPPERS }, (_, i) => new Shopper(`rebuild-${i}`, saleId, stack.gateway.url));
  await Promise.all(shoppers.map((s) => s.join()));
  await sleep(Math.max(0, startsAtMs - Date.now() + 50));

  // Before the loss: admitted shoppers buy (about BOUGHT_BEFORE: polls in flight may add a few),
  // except the first HOLDERS, who keep their passes.
  const accepted = new Map<string, string>();
  const holders = new Map<Shopper, string>();
  const before = async (s: Shopper) => {
    while (accepted.size < BOUGHT_BEFORE) {
      const r = await s.poll();
      if (r.status === "admitted") {
        if (holders.size < HOLDERS && !holders.has(s)) holders.set(s, r.pass!);
        if (holders.has(s)) return;
        const bought = await s.buy();
        expect(bought.status).toBe(202);
        accepted.set(s.user, bought.json().orderId);
        return;
      }
      expect(r.status).toBe("waiting");
      await sleep(Math.min(r.retryAfterMs!, 300));
    }
  };
  await Promise.all(shoppers.map(before));
  expect(holders.size).toBe(HOLDERS);
  const boughtBefore = new Set(accepted.keys());
  const bought = boughtBefore.size;
  expect(bought).toBeGreaterThanOrEqual(BOUGHT_BEFORE);
  await waitForRows(stack.db.pool, saleId, accepted.size);
  const oldEpoch = (await epochOf(saleId))!;

  // Redis comes back empty; keep-sales-built rebuilds the sale from Postgres with a new epoch.
  await stack.redis.flushall();
  await waitFor("the rebuild", async () => ((await epochOf(saleId)) ?? oldEpoch) !== oldEpoch, 20_000);
  const k = saleKeys(saleId);
  expect(await stack.redis.zcard(k.queue)).toBe(0);
  expect(await stack.redis.get(k.stock)).toBe(String(STOCK - accepted.size));
  // The gateways' timers have synced the new (empty) queue.
  await waitFor("the new queue synced", async () => (await stack.redis.hget(k.queueState, "buyersBefore")) === String(accepted.size), 5000);
  await sleep(1000);

  // Every shopper's next poll, with the ticket of the old queue, says: not in the queue.
  const polls = await Promise.all(shoppers.map((s) => pollQueue(stack.gateway.url, saleId, s.token, s.ticket)));
  expect(polls.map((p) => [p.status, p.json().error])).toEqual(shoppers.map(() => [404, "not_in_queue"]));
  // A pass of the old queue buys nothing, and writes nothing.
  const leftBefore = await stack.redis.get(k.stock);
  for (const [s, pass] of holders) {
    const res = await s.buy(pass);
    expect([res.status, res.json().error]).toEqual([403, "pass_required"]);
    expect(res.json().message).toMatch(/restarted/);
  }
  expect(await stack.redis.get(k.stock)).toBe(leftBefore);
  expect(await stack.redis.hlen(k.buyers)).toBe(accepted.size);

  // Joining again: those who bought hold the limit (409); the others line up in arrival order.
  const rejoined: Shopper[] = [];
  for (const s of shoppers) {
    const res = await joinQueue(stack.gateway.url, saleId, s.token);
    if (boughtBefore.has(s.user)) {
      expect([s.user, res.status, res.json().error]).toEqual([s.user, 409, "limit_reached"]);
      continue;
    }
    expect(res.status).toBe(200);
    const r = res.json() as QueueReply;
    s.ticket = r.ticket;
    rejoined.push(s);
    expect(r.position).toBe(rejoined.length);
  }
  expect(rejoined).toHaveLength(SHOPPERS - bought);

  // The new queue admits again, never more shoppers than units left: every pass finds a unit.
  const outcomes: string[] = [];
  const after = async (s: Shopper) => {
    for (;;) {
      const r = await s.poll();
      if (r.status === "sold_out") return outcomes.push("sold_out");
      if (r.status === "admitted") {
        const bought = await s.buy();
        if (bought.status === 202) {
          accepted.set(s.user, bought.json().orderId);
          return outcomes.push("bought");
        }
        return outcomes.push(`refused ${bought.status} ${bought.json().error}`);
      }
      expect(r.status).toBe("waiting");
      await sleep(Math.min(r.retryAfterMs!, 500));
    }
  };
  await Promise.all(rejoined.map(after));
  const tally = (o: string) => outcomes.filter((x) => x === o).length;
  expect({ bought: tally("bought"), soldOut: tally("sold_out"), other: outcomes.length - tally("bought") - tally("sold_out") }).toEqual({
    bought: STOCK - bought,
    soldOut: SHOPPERS - STOCK,
    other: 0,
  });

  // Counted: every 202 the shoppers saw is a row in Postgres, one unit per buyer, nothing over.
  await waitForRows(stack.db.pool, saleId, STOCK);
  const { rows } = await stack.db.pool.query<{ order_id: string; user_id: string }>("SELECT order_id, user_id FROM orders WHERE sale_id = $1", [saleId]);
  expect(new Map(rows.map((r) => [r.order_id, r.user_id]))).toEqual(new Map([...accepted].map(([user, orderId]) => [orderId, user])));
  expect(await countSale(stack.redis, stack.db.pool, saleId)).toMatchObject({
    unitsLeft: 0, unitsSold: STOCK, buyers: STOCK, unitsGranted: STOCK, redisOrders: STOCK,
    pgRows: STOCK, pgUnits: STOCK, pgDistinctUsers: STOCK, pgDuplicateUsers: 0,
  });
  // The live page's figures are the new queue's: its passes used are the buys since the rebuild.
  expect(await readQueueStats(stack.redis, saleId)).toMatchObject({ length: SHOPPERS - bought, passesUsed: STOCK - bought });
  expect(stack.gateway.errorLines().filter((l) => !/not built in Redis|Redis failed/.test(l))).toEqual([]);
});
