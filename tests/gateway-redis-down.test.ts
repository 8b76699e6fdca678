/**
 * Redis down: the gateway fails closed (503 unavailable, nothing sold) and sells again
 * when Redis is back — including after the restart forgot the purchase script (NOSCRIPT).
 * Uses its own Redis instance, which it kills and restarts.
 */
import { RedisScript, type Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/contract/keys";
import { PURCHASE } from "@flash-sale/contract/scripts/order";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { purchase } from "./support/http";
import { signToken } from "./support/tokens";
import { waitFor } from "./support/stream-fixtures";
import { orderNoOf } from "./support/orders";

const stack = useStack(new TestStack({ name: "redis_down", knobs: LOAD_TEST_KNOBS, persistentRedis: true }));

test("Redis stopped → 503 unavailable and nothing sold; Redis back → held until rebuilt, then sales resume, counted", async () => {
  const sale = await stack.controlPlane.createSale({ id: "redis-down", stock: 20 });
  await waitForSale(stack.gateway, sale.id);

  const before = await Promise.all([0, 1, 2].map((i) => purchase(stack.gateway.url, sale.id, signToken(`before-${i}`))));
  expect(before.map((r) => r.status)).toEqual([202, 202, 202]);

  await stack.redisServer.stop();
  const during = await Promise.all([0, 1, 2, 3, 4].map((i) => purchase(stack.gateway.url, sale.id, signToken(`during-${i}`))));
  for (const r of during) {
    expect(r.status).toBe(503);
    expect(r.json().error).toBe("unavailable");
    // Told when to come back, so a rush does not hammer a backend that is down.
    expect([r.headers["retry-after"], r.json().retryAfter]).toEqual(["2", 2]);
  }
  // The config cache keeps answering while Redis is away.
  expect((await fetch(`${stack.gateway.url}/api/sales/${sale.id}`)).status).toBe(200);

  await stack.redisServer.resume();
  // The restarted Redis has the data (AOF) but not the script: the gateway must EVAL it again.
  const { sha } = RedisScript.load(PURCHASE);
  expect(await stack.redis.script("EXISTS", sha)).toEqual([0]);
  // A restarted Redis may have less than it had: the sale is held (nothing sold) until the
  // control plane has rebuilt it from Postgres on the new process.
  const held = await purchase(stack.gateway.url, sale.id, signToken("held-0"));
  expect([held.status, held.json().error, held.headers["retry-after"]]).toEqual([503, "unavailable", "2"]);
  expect(await stack.redis.hexists(saleKeys(sale.id).buyers, "held-0")).toBe(0);
  const rebuildStarted = Date.now();
  stack.controlPlane.startJobs();
  const runId = /run_id:([0-9a-f]+)/.exec(await stack.redis.info("server"))![1]!;
  await waitFor("the rebuild on the new Redis process", async () => (await stack.redis.hget(saleKeys(sale.id).meta, "fence"))?.startsWith(runId) === true);
  console.log(`Redis restarted: sale rebuilt and selling again ${Date.now() - rebuildStarted} ms after the control plane's jobs started`);
  const after = await Promise.all([0, 1, 2].map((i) => purchase(stack.gateway.url, sale.id, signToken(`after-${i}`))));
  expect(after.map((r) => r.status)).toEqual([202, 202, 202]);
  expect(await stack.redis.script("EXISTS", sha)).toEqual([1]);

  const buyers = await stack.redis.hkeys(saleKeys(sale.id).buyers);
  expect(buyers.sort()).toEqual(["after-0", "after-1", "after-2", "before-0", "before-1", "before-2"]);

  const worker = stack.startWorker();
  try {
    await waitForRows(stack.db.pool, sale.id, 6);
  } finally {
    expect(await worker.stop()).toEqual({ code: 0, signal: null });
  }
  expect(await countSale(stack.redis, stack.db.pool, sale.id)).toEqual(balancedCount(6, 14));
});

test("a burst right after the script cache is emptied (NOSCRIPT): every order is its own shopper's", async () => {
  const sale = await stack.controlPlane.createSale({ id: "noscript-burst", stock: 1000 });
  await waitForSale(stack.gateway, sale.id);
  await stack.redis.script("FLUSH");
  // Redis holds every command for 200 ms (under the gateway's 500 ms timeout): the burst's EVALSHAs all wait, then all meet
  // NOSCRIPT, and each nginx worker falls back to EVAL for many requests at once.
  await stack.redis.call("CLIENT", "PAUSE", "200", "ALL");
  const shoppers = Array.from({ length: 200 }, (_, i) => `burst-${i}`);
  const answers = await Promise.all(shoppers.map((s) => purchase(stack.gateway.url, sale.id, signToken(s))));
  expect(answers.map((a) => a.status)).toEqual(Array(200).fill(202));
  const k = saleKeys(sale.id);
  const buyers = await stack.redis.hgetall(k.buyers);
  expect(Object.keys(buyers).sort()).toEqual([...shoppers].sort());
  expect(Object.values(buyers).every((units) => units === "1")).toBe(true);
  for (const [i, a] of answers.entries()) {
    const record = await stack.redis.hget(k.orders, orderNoOf(a.json().orderId as string));
    expect(record?.split("\t")[0]).toBe(shoppers[i]);
  }
  expect(await stack.redis.get(k.sold)).toBe("200");
});
