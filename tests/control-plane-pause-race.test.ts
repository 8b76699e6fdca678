/**
 * Pause and end race shoppers buying without pause through the real gateway (nginx + Lua),
 * with the order worker draining: the call returns only once Redis has applied it, so no order
 * is accepted — in Redis or in Postgres — after the call returned, whatever the gateways'
 * configs (synced every 250 ms) still say. Counted to the order.
 */
import { saleKeys } from "@flash-sale/contract/keys";
import { parseOrderRecord } from "@flash-sale/contract/order_record";
import { countSale, waitForRows } from "./support/counts";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { purchase } from "./support/http";
import { waitFor } from "./support/stream-fixtures";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { signToken } from "./support/tokens";

jest.setTimeout(120_000);

/** Shoppers buying at once, each a new one. */
const CONCURRENCY = 16;
/** Attempts answered after the call returned, all of them refused, before the shoppers stop. */
const AFTER_CALL_ATTEMPTS = 300;

const stack = useStack(new TestStack({ name: "control_plane_pause_race", knobs: LOAD_TEST_KNOBS, worker: { batchSize: 200 } }));

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
      const r = await purchase(stack.gateway.url, saleId, signToken(user));
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
  const fields = await stack.redis.hgetall(saleKeys(saleId).orders);
  const inRedis = Object.entries(fields)
    .filter(([field]) => !field.endsWith(":s"))
    .map(([, text]) => parseOrderRecord(text)!.acceptedAtMs);
  const { rows } = await stack.db.pool.query("SELECT accepted_at FROM orders WHERE sale_id = $1", [saleId]);
  return { redis: inRedis, postgres: rows.map((r) => (r.accepted_at as Date).getTime()) };
}

async function expectNothingAcceptedAfter(
  saleId: string,
  stock: number,
  { attempts, calledAt, returnedAt }: { attempts: Attempt[]; calledAt: number; returnedAt: number },
  refusal: readonly [number, string],
): Promise<void> {
  const accepted = attempts.filter((a) => a.status === 202);
  const after = attempts.filter((a) => a.sentAt > returnedAt);
  expect(after.length).toBeGreaterThanOrEqual(AFTER_CALL_ATTEMPTS);
  expect(new Set(after.map((a) => `${a.status} ${a.error}`))).toEqual(new Set([refusal.join(" ")]));

  await waitForRows(stack.db.pool, saleId, accepted.length);
  const times = await acceptedTimes(saleId);
  const latest = [...times.redis, ...times.postgres].reduce((a, b) => Math.max(a, b), 0);
  expect(latest).toBeLessThanOrEqual(returnedAt);

  // Counted: every 202 once in Redis and in Postgres, nothing else; units balance.
  expect(times.redis).toHaveLength(accepted.length);
  expect(times.postgres).toHaveLength(accepted.length);
  const { rows } = await stack.db.pool.query("SELECT order_id, user_id FROM orders WHERE sale_id = $1", [saleId]);
  expect(new Map(rows.map((r) => [r.user_id as string, r.order_id as string]))).toEqual(new Map(accepted.map((a) => [a.user, a.orderId!])));
  const count = await countSale(stack.redis, stack.db.pool, saleId);
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

test.each([
  { action: "pause", state: "paused", refusal: [503, "sale_paused"] },
  { action: "end", state: "ended", refusal: [410, "sale_ended"] },
] as const)("no order is accepted after POST …/$action returned, with shoppers buying throughout", async ({ action, state, refusal }) => {
  const stock = 100_000;
  const sale = await stack.controlPlane.createSale({ id: `${action}-race`, stock, limits: { admitPerSecond: 100_000 } });
  await waitForSale(stack.gateway, sale.id);
  const race = await raceAgainst(sale.id, 100, async () => {
    const answer = await stack.controlPlane.admin("POST", `/admin/api/sales/${sale.id}/${action}`);
    expect(answer).toMatchObject({ status: 200, body: { state } });
  });
  await expectNothingAcceptedAfter(sale.id, stock, race, refusal);
});
