/**
 * Entries the worker sets aside in order_dead_letters instead of writing an order: collisions
 * (another order in Postgres holds the entry's order id or (sale, user, user_units), with
 * another user or request id) at once, and rows Postgres refuses after FS_WORKER_MAX_DELIVERIES
 * deliveries. Either way the entry is acknowledged, its order is not confirmed in Redis, and
 * the other entries of its batch land. Conflicting entries are written to the stream directly.
 */
import { ORDER_CONSUMER_GROUP, orderStatusField, saleKeys } from "@flash-sale/contract/keys";
import { ORDER_FIELDS } from "@flash-sale/contract/stream";
import { scrape } from "./support/prometheus";
import { buyAll, type AcceptedOrder, type Attempt } from "./support/purchase-script";
import { appendEntry, drainState, drainedState, entryOf, publishSale, waitFor, type WorkerProcess } from "./support/stream-fixtures";
import { useWorkerBench } from "./support/worker-bench";

const bench = useWorkerBench("order-worker-dead-letters", ["orders", "sales", "order_dead_letters"]);

function users(prefix: string, n: number): Attempt[] {
  return Array.from({ length: n }, (_, i) => ({ userId: `${prefix}${i}`, qty: 1 }));
}

interface DeadLetterRow {
  entry_id: string;
  reason: string;
  detail: string;
  deliveries: number | null;
  conflicting_order_id: string | null;
  order_id: string;
  user_id: string;
  request_id: string | null;
}

async function deadLetters(saleId: string): Promise<DeadLetterRow[]> {
  const { rows } = await bench.db.pool.query<DeadLetterRow>(
    `SELECT entry_id, reason, detail, deliveries, conflicting_order_id, order_id, user_id, request_id
     FROM order_dead_letters WHERE sale_id = $1 ORDER BY entry_id`,
    [saleId],
  );
  return rows;
}

async function status(saleId: string, order: AcceptedOrder): Promise<string | null> {
  return bench.redis.hget(saleKeys(saleId).orders, orderStatusField(String(order.orderNo)));
}

test("collisions are set aside, counted, acknowledged and never confirmed; a true redelivery is a no-op", async () => {
  const sale = { id: "collide", stock: 100, perUserLimit: 2 };
  await publishSale(bench.db.pool, bench.redis, sale);
  const orders = await buyAll(bench.redis, sale.id, users("u", 10), sale.perUserLimit);
  // An order id the purchase script issued that no row will hold: its entry is removed.
  const [spare] = await buyAll(bench.redis, sale.id, [{ userId: "spare", qty: 1 }], sale.perUserLimit);
  await bench.redis.xdel(saleKeys(sale.id).stream, (await entryOf(bench.redis, sale.id, spare!.orderId)).id);
  const w = bench.worker("w-collide");
  await waitFor("the first orders", () => bench.drained(orders));

  const [first, second, third, fourth] = orders as [AcceptedOrder, AcceptedOrder, AcceptedOrder, AcceptedOrder];
  const fieldsOf = async (o: AcceptedOrder) => (await entryOf(bench.redis, sale.id, o.orderId)).fields;
  const rowOf = async (o: AcceptedOrder) =>
    (await bench.db.pool.query("SELECT order_id, user_id, user_units, request_id FROM orders WHERE order_id = $1", [o.orderId])).rows;
  const firstRow = await rowOf(first);
  // Each a second order under keys another holds, as a Redis that forgot would issue it (the
  // purchase leaves its status pending): the first shopper's order id for another shopper;
  // the second shopper's unit count under a new order id; the third shopper's order id under
  // another request. The fourth entry is appended again as it was: a redelivery.
  const statuses = saleKeys(sale.id).orders;
  await bench.redis.hset(statuses, orderStatusField(String(first.orderNo)), "pending", orderStatusField(String(third.orderNo)), "pending");
  await bench.redis.hset(statuses, orderStatusField(String(fourth.orderNo)), "pending");
  const collisions = [
    { ...(await fieldsOf(first)), [ORDER_FIELDS.userId]: "intruder", [ORDER_FIELDS.requestId]: "req-intruder" },
    { ...(await fieldsOf(second)), [ORDER_FIELDS.orderId]: spare!.orderId, [ORDER_FIELDS.requestId]: "req-recount" },
    { ...(await fieldsOf(third)), [ORDER_FIELDS.requestId]: "req-other" },
  ];
  const entryIds: string[] = [];
  for (const fields of collisions) entryIds.push(await appendEntry(bench.redis, sale.id, fields));
  entryIds.push(await appendEntry(bench.redis, sale.id, await fieldsOf(fourth)));

  await waitFor("the appended entries acknowledged", async () => {
    const state = await drainState(bench.db.pool, bench.redis, orders);
    return state.pending === 0 && state.undelivered === 0 && (await deadLetters(sale.id)).length === 3;
  });

  // Postgres: the ten orders as they were, and the three collisions beside them.
  expect(await drainState(bench.db.pool, bench.redis, orders)).toEqual({
    ...drainedState(orders),
    notConfirmed: [`${first.orderId}=pending`, `${third.orderId}=pending`],
  });
  expect(await rowOf(first)).toEqual(firstRow);
  expect(await deadLetters(sale.id)).toEqual([
    expect.objectContaining({ entry_id: entryIds[0], reason: "collision", order_id: first.orderId, user_id: "intruder", request_id: "req-intruder", conflicting_order_id: first.orderId, deliveries: null }),
    expect.objectContaining({ entry_id: entryIds[1], reason: "collision", order_id: spare!.orderId, user_id: second.userId, request_id: "req-recount", conflicting_order_id: second.orderId }),
    expect.objectContaining({ entry_id: entryIds[2], reason: "collision", order_id: third.orderId, user_id: third.userId, request_id: "req-other", conflicting_order_id: third.orderId }),
  ]);
  expect((await deadLetters(sale.id))[0]!.detail).toBe(`order ${first.orderId} of user ${first.userId} (request req-collide-0) holds its keys`);

  // Redis: collisions acknowledged and left unconfirmed; the redelivery confirmed.
  expect(await bench.redis.xpending(saleKeys(sale.id).stream, ORDER_CONSUMER_GROUP)).toEqual([0, null, null, null]);
  expect(await status(sale.id, first)).toBe("pending");
  expect(await status(sale.id, spare!)).toBe("pending");
  expect(await status(sale.id, third)).toBe("pending");
  expect(await status(sale.id, fourth)).toBe("confirmed");

  const metrics = await scrape(w.metricsUrl()!);
  expect(metrics.value("fs_worker_order_collisions_total", { sale: sale.id })).toBe(3);
  expect(metrics.value("fs_worker_dead_letters_total", { sale: sale.id, reason: "collision" })).toBe(3);
  expect(metrics.value("fs_worker_orders_drained_total", { sale: sale.id })).toBe(11); // ten, and the redelivery
  const logged = w.logs.filter((l) => String(l.msg).startsWith("order collision:"));
  expect(logged.map((l) => l.msg)).toContain(
    `order collision: ${first.orderId} of user intruder meets order ${first.orderId} of user ${first.userId} in Postgres; set aside in order_dead_letters, not confirmed`,
  );
  expect(logged.every((l) => l.level === 50)).toBe(true);
  expect(w.logs.some((l) => l.msg === "redelivered orders already in Postgres: skipped")).toBe(true);
  expect(await w.stop()).toEqual({ code: 0, signal: null });
});

test("a row Postgres refuses blocks none of its batch, and is set aside after FS_WORKER_MAX_DELIVERIES deliveries, restarts included", async () => {
  // parseOrderEntry lets through no value the orders table refuses today: this CHECK stands
  // for any row Postgres refuses on its own (a stricter migration than the gateway, say).
  await bench.db.pool.query("ALTER TABLE orders ADD CONSTRAINT test_refuse_poison CHECK (user_id <> 'poison')");
  try {
    const sale = { id: "poison", stock: 1000, perUserLimit: 1 };
    await publishSale(bench.db.pool, bench.redis, sale);
    const good = await buyAll(bench.redis, sale.id, users("a", 250), 1);
    const [poison] = await buyAll(bench.redis, sale.id, [{ userId: "poison", qty: 1 }], 1);
    good.push(...(await buyAll(bench.redis, sale.id, users("b", 250), 1)));
    expect(good).toHaveLength(500);
    const poisonEntry = (await entryOf(bench.redis, sale.id, poison!.orderId)).id;
    const env = { FS_WORKER_MAX_DELIVERIES: "3" };

    // One batch of 501, no claims: the poison entry is delivered once.
    const first = bench.worker("w-poison", { env: { ...env, FS_WORKER_CLAIM_IDLE_MS: "600000" }, batchSize: 1000 });
    const refusals = (w: WorkerProcess) => w.logs.filter((l) => l.entry === poisonEntry && l.level === 40);
    await waitFor("the first refusal", () => refusals(first).length > 0);
    // Logged once the rest of its batch committed.
    expect((await bench.db.pool.query("SELECT 1 FROM orders")).rowCount).toBe(500);
    expect(refusals(first)[0]).toMatchObject({ deliveries: 1, maxDeliveries: 3, order: poison!.orderId });
    expect(String(refusals(first)[0]!.error)).toMatch(/^23514 .*test_refuse_poison/);
    const onlyPoisonLeft = JSON.stringify({ ...drainedState(good), pending: 1 });
    await waitFor("the rest confirmed and acknowledged", async () => JSON.stringify(await drainState(bench.db.pool, bench.redis, good)) === onlyPoisonLeft);

    // The delivery count is Redis's: a worker restarted under the same name goes on from it.
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    const again = bench.worker("w-poison", { env, batchSize: 1000 });
    await waitFor("the poison entry set aside", async () => (await deadLetters(sale.id)).length === 1);
    await waitFor("its acknowledgement", async () => (await drainState(bench.db.pool, bench.redis, good)).pending === 0);

    expect(await drainState(bench.db.pool, bench.redis, good)).toEqual(drainedState(good));
    expect(await deadLetters(sale.id)).toEqual([
      expect.objectContaining({ entry_id: poisonEntry, reason: "refused", deliveries: 3, order_id: poison!.orderId, user_id: "poison", conflicting_order_id: null }),
    ]);
    expect((await deadLetters(sale.id))[0]!.detail).toMatch(/^23514 .*test_refuse_poison/);
    expect((await bench.db.pool.query("SELECT 1 FROM orders WHERE user_id = 'poison'")).rowCount).toBe(0);
    expect(await status(sale.id, poison!)).toBe("pending");
    expect(await bench.redis.xpending(saleKeys(sale.id).stream, ORDER_CONSUMER_GROUP)).toEqual([0, null, null, null]);
    expect(refusals(again).map((l) => l.deliveries)).toEqual([2]);
    expect(again.logs.some((l) => l.entry === poisonEntry && l.level === 50 && l.deliveries === 3)).toBe(true);
    const metrics = await scrape(again.metricsUrl()!);
    expect(metrics.value("fs_worker_dead_letters_total", { sale: sale.id, reason: "refused" })).toBe(1);
    expect(await again.stop()).toEqual({ code: 0, signal: null });
  } finally {
    await bench.db.pool.query("ALTER TABLE orders DROP CONSTRAINT test_refuse_poison");
  }
});
