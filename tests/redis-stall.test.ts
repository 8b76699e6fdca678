/**
 * Redis stalls mid-rush (SIGSTOP, as a frozen host or a long disk stall does) for longer than
 * the gateway's redis_timeout_ms, then goes on (SIGCONT), counted Jepsen-style.
 *
 * While it is frozen the kernel still completes connects and buffers what clients send, so:
 * a purchase whose script went out on a pooled connection is answered 503 "may have been
 * taken" after the timeout, and its script runs when Redis goes on (a real order without a
 * 202); one that needed a fresh connection times out on its INFO before the script and is
 * answered 503 with nothing sold. Every request is answered within a bounded time, never held
 * for the stall. Afterwards the sale sells on without a rebuild (a stall loses no state), and
 * the count holds: every 202 survives, no id twice, every order without a 202 is a shopper's
 * told "may have been taken", exactly the stock sold once per shopper. An admin pause made
 * during the stall answers 503 "saved but not yet applied" within the control plane's Redis
 * command timeout, not after the stall, and is in force soon after the thaw (PAUSE_BOUND_MS): the
 * gateway shows the sale paused and its shoppers get no 202 (the jobs' claims that timed out
 * during the stall hold no lease once Redis runs them).
 */
import { saleKeys } from "@flash-sale/contract/keys";
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from "@flash-sale/node-common";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { scrape } from "./support/prometheus";
import { MID_RUSH_PER_SECOND, Rush, tallyRush } from "./support/rush";
import { request } from "./support/http";
import { waitFor } from "./support/stream-fixtures";

const STOCK = 2000;
/** Longer than the services' Redis command timeout (5 s as shipped), and 14 times the gateway's (500 ms). */
const STALL_MS = 7000;
/** The longest any purchase may wait: the timeout and a connect, with room for a loaded machine; far below the stall. */
const ANSWER_BOUND_MS = 2000;
/**
 * How soon after the thaw a pause sent during the stall is in force and shown: keep-sales-built's
 * claim is always asked again while Redis stalls (JobScheduler), so one runs at the thaw and
 * applies the pause; then one config sync (250 ms) and the test's 100 ms poll.
 */
const PAUSE_BOUND_MS = 1000;

let stack: TestStack | undefined;
let pausedRush: Rush | undefined;

async function publicSale(gatewayUrl: string, id: string): Promise<{ status: string }> {
  return (await request(`${gatewayUrl}/api/sales/${id}`)).json() as { status: string };
}

afterAll(async () => {
  await pausedRush?.stop();
  expect(await stack?.stop()).toEqual([{ code: 0, signal: null }]);
});

test("Redis frozen mid-rush past the gateway's timeout, then thawed: answered within the bound, no rebuild, every 202 kept, nothing sold untold, an admin change answered in time", async () => {
  stack = await TestStack.start({ name: "redis_stall", knobs: LOAD_TEST_KNOBS, persistentRedis: true, worker: {} });
  const { redisServer, redis, db, controlPlane, gateway } = stack;
  controlPlane.startJobs();
  const sale = await controlPlane.createSale({ id: "stall", stock: STOCK });
  const other = await controlPlane.createSale({ id: "stall-admin", stock: 5000 });
  for (const id of [sale.id, other.id]) await waitForSale(gateway, id);
  const fenceBefore = await redis.hget(saleKeys(sale.id).meta, "fence");
  const rowCount = async () => Number((await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM orders WHERE sale_id = $1", [sale.id])).rows[0]!.n);

  const rush = new Rush(gateway.url, sale.id, "shopper", 8, { perSecond: MID_RUSH_PER_SECOND }).start();
  // Shoppers of the sale paused during the stall, slower: they see when the pause is in force.
  pausedRush = new Rush(gateway.url, other.id, "paused-shopper", 2, { perSecond: 50 }).start();
  await rush.until("a first part sold and drained", async () => rush.accepted.length >= 200 && (await rowCount()) >= 50);
  expect(pausedRush.accepted.length).toBeGreaterThan(0);

  redisServer.freeze();
  const frozenAt = Date.now();
  const acceptedAtFreeze = rush.accepted.length;
  const pause = controlPlane.admin("POST", `/admin/api/sales/${other.id}/pause`).then((answer) => ({ ...answer, ms: Date.now() - frozenAt }));
  await new Promise((r) => setTimeout(r, STALL_MS));
  const pauseAnswer = await Promise.race([pause, "not answered during the stall"]);
  // 202s that arrived during the stall were answered before it (in flight at the SIGSTOP).
  const acceptedDuringStall = rush.accepted.filter((a) => a.at > frozenAt + ANSWER_BOUND_MS).length;
  const refusedDuringStall = [...rush.refused.values()].reduce((a, b) => a + b, 0);
  redisServer.thaw();
  const thawedAt = Date.now();
  // Watched while the rush goes on; never shown reads as an endless wait.
  const pauseShown = waitFor("the pause shown by the gateway", async () => (await publicSale(gateway.url, other.id)).status === "paused", 10_000)
    .then(() => Date.now() - thawedAt, () => Infinity);

  const acceptedAtThaw = rush.accepted.length;
  await rush.until("selling again after the thaw", () => rush.accepted.length >= acceptedAtThaw + 100, 15_000);
  await rush.finished();
  const pauseShownMs = await pauseShown;
  await pausedRush.stop();

  // The admin change: saved, said so within the command timeout, and in force within a second of the thaw.
  expect(pauseAnswer).toMatchObject({ status: 503, body: { error: "unavailable", message: expect.stringMatching(/^The pause is saved \(revision \d+\) but not yet applied/) } });
  expect((pauseAnswer as { ms: number }).ms).toBeGreaterThanOrEqual(DEFAULT_REDIS_COMMAND_TIMEOUT_MS - 100);
  expect(pauseShownMs).toBeLessThanOrEqual(PAUSE_BOUND_MS);
  expect(pausedRush.accepted.filter((a) => a.at > thawedAt + PAUSE_BOUND_MS)).toEqual([]);
  expect(pausedRush.refused.get(503)).toBeGreaterThan(0);

  // Bounded answers: none waited out the stall, none was dropped, and every refusal was a 503.
  expect(acceptedDuringStall).toBe(0);
  expect(rush.accepted.length).toBeGreaterThan(acceptedAtFreeze);
  expect(refusedDuringStall).toBeGreaterThan(0);
  expect(rush.slowestMs).toBeLessThan(ANSWER_BOUND_MS);
  expect([...rush.refused.keys()]).toEqual([503]);
  // The purchases in flight on pooled connections were told the truth: taken, maybe.
  expect(rush.maybeTaken.size).toBeGreaterThan(0);
  const metrics = await scrape(gateway.metricsUrl);
  expect(metrics.sum("fs_gateway_requests_total", { route: "purchase", sale: sale.id, outcome: "unknown" })).toBe(rush.maybeTaken.size);

  // A stall loses no state: the sale was not held or rebuilt.
  expect(await redis.hget(saleKeys(sale.id).meta, "fence")).toBe(fenceBefore);
  const repairs = await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM sale_audit WHERE sale_id = $1 AND action = 'repair'", [sale.id]);
  expect(Number(repairs.rows[0]!.n)).toBe(0);

  await waitForRows(db.pool, sale.id, STOCK, 30_000);
  expect(await countSale(redis, db.pool, sale.id)).toEqual(balancedCount(STOCK, 0));

  // Every 202 kept as its shopper's, no id twice; every order without a 202 is a shopper's told
  // "may have been taken" (never one told nothing was sold), listed where the 503 said to look.
  const tally = await tallyRush(db.pool, sale.id, rush, gateway.url);
  expect(tally).toMatchObject({ lost: [], reusedIds: [], unexplained: [], unlisted: [] });
  expect(tally.untold.length).toBeGreaterThan(0);
  expect(tally.untold.every((o) => rush.maybeTaken.has(o.user))).toBe(true);
  console.log(
    `stall of ${STALL_MS} ms: ${rush.accepted.length} 202s; ${rush.maybeTaken.size} told "may have been taken", ${tally.untold.length} of them with an order; ` +
      `${refusedDuringStall} refusals during the stall; slowest answer ${rush.slowestMs} ms; the admin pause answered 503 after ${(pauseAnswer as { ms: number }).ms} ms ` +
      `and was shown by the gateway ${pauseShownMs} ms after the thaw`,
  );
}, 120_000);
