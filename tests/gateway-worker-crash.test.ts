/**
 * nginx's worker processes SIGKILLed mid-rush (a crash of the Lua VM, the OOM killer), counted
 * Jepsen-style. The master starts new workers; the shared dicts live on in the master's
 * shared memory, and a lock a dead worker held is released by the master. Redis is frozen a
 * moment before the kill, so the workers die with purchases sent and unanswered: those lose
 * their connection without an answer, their scripts run when Redis goes on, and each shopper
 * finds the order in their orders. Everything else sells
 * as before: exactly the stock, once per shopper, every 202 kept, no id twice, and no order
 * whose shopper was not told (a 202, "may have been taken", or no answer at all).
 */
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { MID_RUSH_PER_SECOND, Rush, tallyRush } from "./support/rush";
import { waitFor } from "./support/stream-fixtures";

const STOCK = 2000;
/** How long Redis is frozen before the kill: every loop's purchase is then waiting on it, within redis_timeout_ms. */
const IN_FLIGHT_MS = 200;

let stack: TestStack | undefined;

afterAll(async () => {
  expect(await stack?.stop()).toEqual([{ code: 0, signal: null }]);
});

test("the nginx workers SIGKILLed mid-rush with purchases in flight: new ones serve, exactly the stock sold once per shopper, every 202 kept, no order untold", async () => {
  stack = await TestStack.start({ name: "gateway_worker_crash", knobs: { ...LOAD_TEST_KNOBS, worker_processes: "2" }, worker: {} });
  const { redis, db, gateway } = stack;
  const sale = await stack.controlPlane.createSale({ id: "worker-crash", stock: STOCK });
  await waitForSale(gateway, sale.id);

  const rush = new Rush(gateway.url, sale.id, "shopper", 8, { perSecond: MID_RUSH_PER_SECOND }).start();
  await rush.until("a first part sold", () => rush.accepted.length >= 300);
  const workers = gateway.workerPids();
  expect(workers).toHaveLength(2);
  // Redis held a moment, so the workers die with purchases sent and unanswered.
  stack.redisServer.freeze();
  await new Promise((r) => setTimeout(r, IN_FLIGHT_MS));
  for (const pid of workers) process.kill(pid, "SIGKILL");
  const acceptedAtKill = rush.accepted.length;
  await waitFor("new workers in the dead ones' place", () => {
    const now = gateway.workerPids();
    return now.length === 2 && now.every((p) => !workers.includes(p));
  }, 5000);
  stack.redisServer.thaw();
  await rush.until("sold on after the kill", () => rush.accepted.length >= acceptedAtKill + 300, 15_000);
  await rush.finished();

  // The refusals: a dropped connection (the dead workers') or a 503 while the new ones read the sales.
  expect([...rush.refused.keys()].filter((s) => s !== 0 && s !== 503)).toEqual([]);
  expect(rush.dropped.size).toBeGreaterThan(0);
  expect(rush.dropped.size).toBeLessThanOrEqual(8);
  const allowed = [/worker process \d+ exited on signal 9/];
  expect(gateway.errorLines().filter((l) => !allowed.some((a) => a.test(l)))).toEqual([]);

  await waitForRows(db.pool, sale.id, STOCK, 30_000);
  expect(await countSale(redis, db.pool, sale.id)).toEqual(balancedCount(STOCK, 0));

  // Every 202 kept as its shopper's, no id twice; every order without a 202 is a shopper's whose
  // answer was lost (or said "may have been taken"), listed in their orders.
  const tally = await tallyRush(db.pool, sale.id, rush, gateway.url);
  expect(tally).toMatchObject({ lost: [], reusedIds: [], unexplained: [], unlisted: [] });
  expect(tally.untold.length).toBeGreaterThan(0);
  console.log(`workers ${workers.join(", ")} killed after ${acceptedAtKill} 202s: ${rush.accepted.length} 202s in all, ${rush.dropped.size} answers lost, ${tally.untold.length} orders of them`);
}, 120_000);
