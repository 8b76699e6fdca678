/**
 * Pause and end race shoppers buying without pause through the real gateway (nginx + Lua),
 * with the order worker draining: the call returns only once Redis has applied it, so no order
 * is accepted — in Redis or in Postgres — after the call returned, whatever the gateways'
 * configs (synced every 250 ms) still say. Counted to the order.
 */
import { saleKeys } from "@flash-sale/contract/keys";
import { parseOrderRecord } from "@flash-sale/contract/order_record";
import type { Redis } from "@flash-sale/node-common";
import type { ControlPlane } from "./support/control-plane";
import { countSale, waitForRows } from "./support/counts";
import { LOAD_TEST_KNOBS, waitForSale, type Gateway } from "./support/gateway";
import { purchase } from "./support/http";
import { waitFor } from "./support/stream-fixtures";
import type { TestDatabase } from "./support/test-database";
import { TestStack } from "./support/test-stack";
import { signToken } from "./support/tokens";

jest.setTimeout(120_000);

let stack: TestStack;
let redis: Redis;
let db: TestDatabase;
let controlPlane: ControlPlane;
let gateway: Gateway;

/** Shoppers buying at once, each a new one. */
const CONCURRENCY = 16;
/** Attempts answered after the call returned, all of them refused, before the shoppers stop. */
const AFTER_CALL_ATTEMPTS = 300;

beforeAll(async () => {
  stack = await TestStack.start({ name: "control_plane_pause_race", knobs: LOAD_TEST_KNOBS, worker: { batchSize: 200 } });
  ({ redis, db, controlPlane, gateway } = stack);
});

afterAll(async () => {
  expect(await stack?.stop()).toEqual({ code: 0, signal: null });
});

interface Attempt {
  user: string;
  sentAt: number;
  status: number;
  error?: string;
  orderId?: string;
}

/**
 * Shoppers buy continuously until `stop()`; once at least `before` orders are accepted, `call`
 * runs, and its return time is taken. Answers every attempt and that time.
 */
async function raceAgainst(saleId: string, before: number, call: () => Promise<void>): Promise<{ attempts: Attempt[]; calledAt: number; returnedAt: number }> {
  const attempts: Attempt[] = [];
  let next = 0;
  let returnedAt = Infinity;
  const answeredAfter = () => attempts.filter((a) => a.sentAt > returnedAt).length;
  const shopper = async () => {
    while (answeredAfter() < AFTER_CALL_ATTEMPTS) {
      const user = `${saleId}-shopper-${next++}`;
      const sentAt = Date.now();
      const r = await purchase(gateway.url, saleId, signToken(user));
      const body = r.json();
      attempts.push({ user, sentAt, status: r.status, error: body.error, orderId: body.orderId });
    }
  };
  const shopping = Promise.all(Array.from({ length: CONCURRENCY }, shopper));
  await waitFor(`${before} orders accepted`, () => attempts.filter((a) => a.status === 202).length >= before, 30_000);
  const calledAt = Date.now();
  await call();
  returnedAt = Date.now();
  await shopping;
  return { attempts, calledAt, returnedAt };
}

/** Acceptance times (epoch ms, Redis' clock) of every order of the sale, in Redis and in Postgres. */
async function acceptedTimes(saleId: string): Promise<{ redis: number[]; postgres: number[] }> {
  const fields = await redis.hgetall(saleKeys(saleId).orders);
  const inRedis = Object.entries(fields)
    .filter(([field]) => !field.endsWith(":s"))
    .map(([, text]) => parseOrderRecord(text)!.acceptedAtMs);
  const { rows } = await db.pool.query("SELECT accepted_at FROM orders WHERE sale_id = $1", [saleId]);
  return { redis: inRedis, postgres: rows.map((r) => (r.accepted_at as Date).getTime()) };
}

async function expectNothingAcceptedAfter(
  saleId: string,
  stock: number,
  { attempts, calledAt, returnedAt }: { attempts: Attempt[]; calledAt: number; returnedAt: number },
  refusal: [number, string],
): Promise<void> {
  const accepted = attempts.filter((a) => a.status === 202);
  const after = attempts.filter((a) => a.sentAt > returnedAt);
  expect(after.length).toBeGreaterThanOrEqual(AFTER_CALL_ATTEMPTS);
  expect(new Set(after.map((a) => `${a.status} ${a.error}`))).toEqual(new Set([refusal.join(" ")]));

  await waitForRows(db.pool, saleId, accepted.length);
  const times = await acceptedTimes(saleId);
  const latest = [...times.redis, ...times.postgres].reduce((a, b) => Math.max(a, b), 0);
  expect(latest).toBeLessThanOrEqual(returnedAt);

  // Counted: every 202 once in Redis and in Postgres, nothing else; units balance.
  expect(times.redis).toHaveLength(accepted.length);
  expect(times.postgres).toHaveLength(accepted.length);
  const { rows } = await db.pool.query("SELECT order_id, user_id FROM orders WHERE sale_id = $1", [saleId]);
  expect(new Map(rows.map((r) => [r.user_id as string, r.order_id as string]))).toEqual(new Map(accepted.map((a) => [a.user, a.orderId!])));
  const count = await countSale(redis, db.pool, saleId);
  expect(count).toMatchObject({
    unitsLeft: stock - accepted.length,
    unitsSold: accepted.length,
    buyers: accepted.length,
    redisOrders: accepted.length,
    streamEntries: accepted.length,
    pgRows: accepted.length,
    pgDistinctUsers: accepted.length,
    pgDuplicateUsers: 0,
  });
  console.log(
    `${saleId}: ${attempts.length} attempts, ${accepted.length} accepted (${times.redis.filter((t) => t >= calledAt).length} while the ` +
      `${returnedAt - calledAt} ms call ran); the last accepted ${returnedAt - latest} ms before it returned; ${after.length} sent after it, all ${refusal.join(" ")}`,
  );
}

test("no order is accepted after POST …/pause returned, with shoppers buying throughout", async () => {
  const stock = 100_000;
  const sale = await controlPlane.createSale({ id: "pause-race", stock, limits: { admitPerSecond: 100_000 } });
  await waitForSale(gateway, sale.id);
  const race = await raceAgainst(sale.id, 100, async () => {
    const paused = await controlPlane.admin("POST", `/admin/api/sales/${sale.id}/pause`);
    expect(paused).toMatchObject({ status: 200, body: { state: "paused" } });
  });
  await expectNothingAcceptedAfter(sale.id, stock, race, [503, "sale_paused"]);
});

test("no order is accepted after POST …/end returned, with shoppers buying throughout", async () => {
  const stock = 100_000;
  const sale = await controlPlane.createSale({ id: "end-race", stock, limits: { admitPerSecond: 100_000 } });
  await waitForSale(gateway, sale.id);
  const race = await raceAgainst(sale.id, 100, async () => {
    const ended = await controlPlane.admin("POST", `/admin/api/sales/${sale.id}/end`);
    expect(ended).toMatchObject({ status: 200, body: { state: "ended" } });
  });
  await expectNothingAcceptedAfter(sale.id, stock, race, [410, "sale_ended"]);
});
