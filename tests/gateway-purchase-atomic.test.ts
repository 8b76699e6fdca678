/**
 * A purchase script that fails after its checks leaves nothing half-written: for each key the
 * script writes (and the meta hash it reads), the key is replaced by one of another type, or by
 * a value that is no number, and a purchase through the real gateway answers 503 unavailable
 * while every Redis key stays byte for byte what it was. Each key is then put back and the sale
 * sells again, counted. The gateway logs each refusal at [error] (Redis' error reply, or the
 * sale's state not loaded when a counter is of another type), and nothing else.
 */
import type { Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/contract/keys";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { countSale, snapshot } from "./support/counts";
import { purchase } from "./support/http";
import { signToken } from "./support/tokens";

const stack = useStack(new TestStack({ name: "purchase_atomic", knobs: LOAD_TEST_KNOBS }));

/** The same shopper tries once per corruption: wider than the test defaults' per-user rate. */
const LIMITS = { userRatePerSecond: 1000, userBurst: 1000 };

type Corruption = [what: string, key: string, corrupt: (key: string) => Promise<unknown>];

const asList = (key: string) => stack.redis.rpush(key, "x");
const asString = (key: string) => stack.redis.set(key, "x");

/** Each corruption in turn: 503 unavailable, every key unchanged; then the key is put back. */
async function expectNothingWritten(saleId: string, user: string, corruptions: Corruption[]): Promise<void> {
  for (const [what, key, corrupt] of corruptions) {
    const original = await stack.redis.dumpBuffer(key);
    expect([what, original === null]).toEqual([what, false]);
    await stack.redis.del(key);
    await corrupt(key);
    const before = await snapshot(stack.redis, stack.db.pool);
    const res = await purchase(stack.gateway.url, saleId, signToken(user));
    expect([what, res.status, res.json().error]).toEqual([what, 503, "unavailable"]);
    expect([what, await snapshot(stack.redis, stack.db.pool)]).toEqual([what, before]);
    await stack.redis.del(key);
    await stack.redis.restore(key, 0, original!);
  }
}

test("order sale: each written key of another type (or not a number) → 503, nothing written; put back → sells, counted", async () => {
  const sale = await stack.controlPlane.createSale({ id: "atomic-order", stock: 5, limits: LIMITS });
  await waitForSale(stack.gateway, sale.id);
  // A first order, so that every key the script writes exists.
  expect((await purchase(stack.gateway.url, sale.id, signToken("first"))).status).toBe(202);

  const k = saleKeys(sale.id);
  const notANumber = (key: string) => stack.redis.set(key, "abc");
  await expectNothingWritten(sale.id, "second", [
    ["stream of another type (XADD fails)", k.stream, asString],
    ["stock of another type", k.stock, asList],
    ["sold of another type", k.sold, asList],
    ["sold not a number", k.sold, notANumber],
    ["buyers of another type", k.buyers, asString],
    ["buyer's units not a number", k.buyers, (key) => stack.redis.hset(key, "first", "1", "second", "abc")],
    ["order counter of another type", k.orderSeq, asList],
    ["order counter not a number", k.orderSeq, notANumber],
    ["orders of another type", k.orders, asString],
    ["meta of another type", k.meta, asString],
  ]);
  // The counter behind its orders (reset on its own): the next number is taken, never overwritten.
  const seq = (await stack.redis.dumpBuffer(k.orderSeq))!;
  await stack.redis.set(k.orderSeq, "0");
  const before = await snapshot(stack.redis, stack.db.pool);
  const res = await purchase(stack.gateway.url, sale.id, signToken("second"));
  expect([res.status, res.json().error]).toEqual([503, "unavailable"]);
  expect(await snapshot(stack.redis, stack.db.pool)).toEqual(before);
  expect(stack.gateway.errorLog()).toContain("order number 1 is taken");
  await stack.redis.del(k.orderSeq);
  await stack.redis.restore(k.orderSeq, 0, seq);

  expect((await purchase(stack.gateway.url, sale.id, signToken("second"))).status).toBe(202);
  const count = await countSale(stack.redis, stack.db.pool, sale.id);
  expect(count).toMatchObject({ unitsLeft: 3, unitsSold: 2, buyers: 2, unitsGranted: 2, redisOrders: 2, streamEntries: 2 });

  const errors = stack.gateway.errorLines();
  // One [error] line per refused purchase above, and nothing else.
  expect(errors.length).toBe(11);
  for (const line of errors) expect(line).toMatch(/purchase: (Redis failed, nothing sold: (WRONGTYPE|ERR)|state of sale 'atomic-order' is not loaded)/);
});

test("payment sale: open-unpaid counter of another type (or not a number) → 503, nothing written; put back → sells", async () => {
  const sale = await stack.controlPlane.createSale({ id: "atomic-payment", stock: 5, deduction: "payment", paymentTimeoutSeconds: 60, limits: { ...LIMITS, openUnpaidOrders: 10 } });
  await waitForSale(stack.gateway, sale.id);
  expect((await purchase(stack.gateway.url, sale.id, signToken("first"))).status).toBe(202);

  const k = saleKeys(sale.id);
  await expectNothingWritten(sale.id, "second", [
    ["open unpaid of another type", k.openUnpaid, asList],
    ["open unpaid not a number", k.openUnpaid, (key) => stack.redis.set(key, "abc")],
  ]);
  expect((await purchase(stack.gateway.url, sale.id, signToken("second"))).status).toBe(202);
  expect(await stack.redis.get(k.openUnpaid)).toBe("2");
  expect(await stack.redis.get(k.stock)).toBe("5");
  expect(await stack.redis.hlen(k.orders)).toBe(4);
});
