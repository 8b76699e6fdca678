/**
 * Counted sales through the real gateway (nginx + compiled Lua), Redis, order worker and
 * Postgres: the status codes are not trusted; every test ends by counting.
 */
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { purchase } from "./support/http";
import { signToken } from "./support/tokens";

const stack = useStack(new TestStack({ name: "counted_sale", knobs: LOAD_TEST_KNOBS, worker: { batchSize: 1000 } }));

async function shoppersBuy(saleId: string, shoppers: number): Promise<Map<number, number>> {
  const tokens = Array.from({ length: shoppers }, (_, i) => signToken(`${saleId}-shopper-${i}`));
  const responses = await Promise.all(tokens.map((t) => purchase(stack.gateway.url, saleId, t)));
  const byStatus = new Map<number, number>();
  for (const r of responses) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  return byStatus;
}

test.each([
  { units: 100, shoppers: 5000 },
  { units: 1, shoppers: 5000 },
])("$shoppers distinct shoppers at once, $units units: exactly $units sold, counted in Redis and Postgres", async ({ units, shoppers }) => {
  const sale = await stack.controlPlane.createSale({ id: `counted-${units}`, stock: units });
  await waitForSale(stack.gateway, sale.id);

  const byStatus = await shoppersBuy(sale.id, shoppers);

  expect(byStatus.get(202)).toBe(units);
  expect(byStatus.get(410)).toBe(shoppers - units);
  expect([...byStatus.keys()].sort()).toEqual([202, 410]);

  await waitForRows(stack.db.pool, sale.id, units);
  const count = await countSale(stack.redis, stack.db.pool, sale.id);
  expect(count).toEqual(balancedCount(units, 0));
  expect(stack.gateway.errorLines()).toEqual([]);
});

test("the same shopper 50 times in parallel gets exactly one order and one unit", async () => {
  const sale = await stack.controlPlane.createSale({
    id: "one-shopper",
    stock: 10,
    limits: { userRatePerSecond: 1000, userBurst: 1000, admitPerSecond: 100000 },
  });
  await waitForSale(stack.gateway, sale.id);
  const token = signToken("the-same-shopper");

  const responses = await Promise.all(Array.from({ length: 50 }, () => purchase(stack.gateway.url, sale.id, token)));

  const accepted = responses.filter((r) => r.status === 202);
  expect(accepted).toHaveLength(1);
  expect(responses.filter((r) => r.status === 409)).toHaveLength(49);
  expect(responses.find((r) => r.status === 409)?.json().error).toBe("limit_reached");

  await waitForRows(stack.db.pool, sale.id, 1);
  const count = await countSale(stack.redis, stack.db.pool, sale.id);
  expect(count).toMatchObject({ unitsLeft: 9, unitsSold: 1, buyers: 1, redisOrders: 1, streamEntries: 1, pgRows: 1, pgDistinctUsers: 1 });

  // The order is the shopper's own, and becomes confirmed once it is in Postgres.
  const orderId = accepted[0]!.json().orderId as string;
  const own = await fetch(`${stack.gateway.url}/api/orders/${orderId}`, { headers: { Authorization: `Bearer ${token}` } });
  expect(own.status).toBe(200);
  expect(await own.json()).toMatchObject({ orderId, saleId: sale.id, status: "confirmed", quantity: 1 });
  const other = await fetch(`${stack.gateway.url}/api/orders/${orderId}`, {
    headers: { Authorization: `Bearer ${signToken("someone-else")}` },
  });
  expect(other.status).toBe(404);
  expect(((await other.json()) as { error: string }).error).toBe("order_not_found");
});
