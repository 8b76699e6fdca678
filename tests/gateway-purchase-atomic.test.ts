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
import { LOAD_TEST_KNOBS, waitForSale, type Gateway } from "./support/gateway";
import type { TestDatabase } from "./support/test-database";
import type { ControlPlane } from "./support/control-plane";
import { TestStack } from "./support/test-stack";
import { countSale, snapshot } from "./support/counts";
import { purchase } from "./support/http";
import { signToken } from "./support/tokens";

let stack: TestStack;
let redis: Redis;
let db: TestDatabase;
let controlPlane: ControlPlane;
let gateway: Gateway;

beforeAll(async () => {
  stack = await TestStack.start({ name: "purchase_atomic", knobs: LOAD_TEST_KNOBS });
  ({ redis, db, controlPlane, gateway } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

/** The same shopper tries once per corruption: wider than the test defaults' per-user rate. */
const LIMITS = { userRatePerSecond: 1000, userBurst: 1000 };

type Corruption = [what: string, key: string, corrupt: (key: string) => Promise<unknown>];

const asList = (key: string) => redis.rpush(key, "x");
const asString = (key: string) => redis.set(key, "x");

/** Each corruption in turn: 503 unavailable, every key unchanged; then the key is put back. */
async function expectNothingWritten(saleId: string, user: string, corruptions: Corruption[]): Promise<void> {
  for (const [what, key, corrupt] of corruptions) {
    const original = await redis.dumpBuffer(key);
    expect([what, original === null]).toEqual([what, false]);
    await redis.del(key);
    await corrupt(key);
    const before = await snapshot(redis, db.pool);
    const res = await purchase(gateway.url, saleId, signToken(user));
    expect([what, res.status, res.json().error]).toEqual([what, 503, "unavailable"]);
    expect([what, await snapshot(redis, db.pool)]).toEqual([what, before]);
    await redis.del(key);
    await redis.restore(key, 0, original!);
  }
}

test("order sale: each written key of another type (or not a number) → 503, nothing written; put back → sells, counted", async () => {
  const sale = await controlPlane.createSale({ id: "atomic-order", stock: 5, limits: LIMITS });
  await waitForSale(gateway, sale.id);
  // A first order, so that every key the script writes exists.
  expect((await purchase(gateway.url, sale.id, signToken("first"))).status).toBe(202);

  const k = saleKeys(sale.id);
  const notANumber = (key: string) => redis.set(key, "abc");
  await expectNothingWritten(sale.id, "second", [
    ["stream of another type (XADD fails)", k.stream, asString],
    ["stock of another type", k.stock, asList],
    ["sold of another type", k.sold, asList],
    ["sold not a number", k.sold, notANumber],
    ["buyers of another type", k.buyers, asString],
    ["buyer's units not a number", k.buyers, (key) => redis.hset(key, "first", "1", "second", "abc")],
    ["order counter of another type", k.orderSeq, asList],
    ["order counter not a number", k.orderSeq, notANumber],
    ["orders of another type", k.orders, asString],
    ["meta of another type", k.meta, asString],
  ]);
  // The counter behind its orders (reset on its own): the next number is taken, never overwritten.
  const seq = (await redis.dumpBuffer(k.orderSeq))!;
  await redis.set(k.orderSeq, "0");
  const before = await snapshot(redis, db.pool);
  const res = await purchase(gateway.url, sale.id, signToken("second"));
  expect([res.status, res.json().error]).toEqual([503, "unavailable"]);
  expect(await snapshot(redis, db.pool)).toEqual(before);
  expect(gateway.errorLog()).toContain("order number 1 is taken");
  await redis.del(k.orderSeq);
  await redis.restore(k.orderSeq, 0, seq);

  expect((await purchase(gateway.url, sale.id, signToken("second"))).status).toBe(202);
  const count = await countSale(redis, db.pool, sale.id);
  expect(count).toMatchObject({ unitsLeft: 3, unitsSold: 2, buyers: 2, unitsGranted: 2, redisOrders: 2, streamEntries: 2 });

  const errors = gateway.errorLines();
  // One [error] line per refused purchase above, and nothing else.
  expect(errors.length).toBe(11);
  for (const line of errors) expect(line).toMatch(/purchase: (Redis failed, nothing sold: (WRONGTYPE|ERR)|state of sale 'atomic-order' is not loaded)/);
});

test("payment sale: open-unpaid counter of another type (or not a number) → 503, nothing written; put back → sells", async () => {
  const sale = await controlPlane.createSale({ id: "atomic-payment", stock: 5, deduction: "payment", paymentTimeoutSeconds: 60, limits: { ...LIMITS, openUnpaidOrders: 10 } });
  await waitForSale(gateway, sale.id);
  expect((await purchase(gateway.url, sale.id, signToken("first"))).status).toBe(202);

  const k = saleKeys(sale.id);
  await expectNothingWritten(sale.id, "second", [
    ["open unpaid of another type", k.openUnpaid, asList],
    ["open unpaid not a number", k.openUnpaid, (key) => redis.set(key, "abc")],
  ]);
  expect((await purchase(gateway.url, sale.id, signToken("second"))).status).toBe(202);
  expect(await redis.get(k.openUnpaid)).toBe("2");
  expect(await redis.get(k.stock)).toBe("5");
  expect(await redis.hlen(k.orders)).toBe(4);
});
