/**
 * Overload: a worker whose Redis pool is overrun refuses purchases before their checks (503
 * unavailable, Retry-After, outcome `overloaded`), sells nothing it did not answer 202 for, and
 * sells again once the pool is free. The pool is made tiny and Redis is held with CLIENT
 * PAUSE, so the overrun is reached with a few dozen requests.
 */
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { purchase } from "./support/http";
import { scrape } from "./support/prometheus";
import { signToken } from "./support/tokens";

const POOL = 2;

const stack = useStack(new TestStack({
    name: "gateway_overload",
    knobs: { ...LOAD_TEST_KNOBS, worker_processes: "1", redis_pool_size: String(POOL), redis_connect_timeout_ms: "50" },
    worker: {},
  }));

test("an overrun Redis pool: purchases refused before their checks with Retry-After, nothing sold without a 202, selling again once free", async () => {
  const sale = await stack.controlPlane.createSale({ id: "overload", stock: 100 });
  await waitForSale(stack.gateway, sale.id);
  const buy = (who: string) => purchase(stack.gateway.url, sale.id, signToken(who));

  // Redis holds every command: the pool's connections stay busy, the requests behind them wait
  // out the connect timeout (503), and the next ones find the pool overrun.
  await stack.redis.call("CLIENT", "PAUSE", "1500", "ALL");
  const first = Array.from({ length: 30 }, (_, i) => buy(`first-${i}`));
  await new Promise((r) => setTimeout(r, 300));
  const second = await Promise.all(Array.from({ length: 30 }, (_, i) => buy(`second-${i}`)));
  const answers = [...(await Promise.all(first)), ...second];

  const shed = answers.filter((a) => a.status === 503 && a.json().message.startsWith("The gateway is overloaded"));
  expect(shed.length).toBeGreaterThanOrEqual(20);
  for (const a of shed) {
    expect([a.json().error, a.headers["retry-after"], a.json().retryAfter]).toEqual(["unavailable", "2", 2]);
  }
  const kinds = new Set(answers.map((a) => a.status));
  expect([...kinds].every((s) => s === 202 || s === 503)).toBe(true);
  const metrics = await scrape(stack.gateway.metricsUrl);
  expect(metrics.sum("fs_gateway_requests_total", { route: "purchase", sale: sale.id, outcome: "overloaded" })).toBe(shed.length);

  // Free again: the next purchases are sold, and the sale counts exactly the 202s.
  await new Promise((r) => setTimeout(r, 1500));
  // One at a time: with a pool of 2, concurrent buyers plus the worker's own timers (sale configs,
  // key set) may still make a connect wait out its 50 ms and refuse one, which is the overrun rule.
  const after = [];
  for (let i = 0; i < 5; i++) after.push(await buy(`after-${i}`));
  expect(after.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
  const accepted = [...answers, ...after].filter((a) => a.status === 202).length;
  await waitForRows(stack.db.pool, sale.id, accepted);
  expect(await countSale(stack.redis, stack.db.pool, sale.id)).toEqual(balancedCount(accepted, 100 - accepted));
});
