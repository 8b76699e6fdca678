/**
 * An order worker frozen (SIGSTOP, a stalled host) inside its insert transaction, before the
 * commit, while Redis restarts from its AOF and two sales need a repair. The frozen transaction
 * holds its sale's row (the orders' foreign key takes FOR KEY SHARE), which the repair locks
 * FOR UPDATE: keep-sales-built waits SALE_LOCK_WAIT_MS for it, goes on to the other sale, which
 * is repaired at once, and repairs the held one once Postgres ends the frozen session
 * (FS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS) and rolls it back. The worker, let go on, writes its
 * batch again. Counted: every 202 kept as its shopper's, both sales sold out to exactly their
 * stock, every unit once in Redis and in Postgres.
 */
import { readFileSync } from "node:fs";
import { DEFAULT_PG_TIMEOUTS } from "@flash-sale/node-common";
import { waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { purchase } from "./support/http";
import { Rush, type Accepted } from "./support/rush";
import { waitFor, type WorkerProcess } from "./support/stream-fixtures";
import { signToken } from "./support/tokens";

const STOCK = 40;
/** Bought of the held sale before the worker starts: its first batch, the one it freezes in. */
const FIRST = 10;
/** The other sale is repaired within this of Redis' restart: a tick, the held sale's lock wait, the build. */
const AT_ONCE_MS = 3000;
/** The held sale: Postgres ends the frozen session this long after it went idle, then a tick and the build. */
const HELD_BOUND_MS = DEFAULT_PG_TIMEOUTS.idleInTransactionMs + 3000;

let stack: TestStack | undefined;
let frozen: WorkerProcess | undefined;

afterAll(async () => {
  frozen?.child.kill("SIGCONT");
  await frozen?.stop();
  await stack?.stop();
});

/** The process is stopped (state T in /proc). */
function isStopped(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).startsWith("T");
}

async function buy(gatewayUrl: string, saleId: string, users: string[]): Promise<Accepted[]> {
  const accepted: Accepted[] = [];
  for (const user of users) {
    const res = await purchase(gatewayUrl, saleId, signToken(user));
    if (res.status !== 202) throw new Error(`${user}: ${res.status} ${res.text}`);
    accepted.push({ user, orderId: res.json().orderId as string, at: Date.now() });
  }
  return accepted;
}

test("a worker frozen mid-insert holds its sale's repair only until Postgres ends its session, and never the other sale's", async () => {
  stack = await TestStack.start({ name: "order_worker_frozen", persistentRedis: true });
  const { redisServer, redis, db, controlPlane, gateway } = stack;
  controlPlane.startJobs();
  const now = Date.now();
  // The held sale starts first, so the job meets it first.
  const held = await controlPlane.createSale({ id: "frozen-held", stock: STOCK, startsAt: new Date(now - 120_000).toISOString() });
  const other = await controlPlane.createSale({ id: "frozen-other", stock: STOCK, startsAt: new Date(now - 60_000).toISOString() });
  const repairs = async (saleId: string) =>
    Number((await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM sale_audit WHERE sale_id = $1 AND action = 'repair'", [saleId])).rows[0]!.n);
  for (const id of [held.id, other.id]) await waitForSale(gateway, id);

  const accepted = await buy(gateway.url, held.id, Array.from({ length: FIRST }, (_, i) => `first-${i}`));
  frozen = stack.startWorker({ FS_WORKER_FAULT: "stop-mid-batch", FS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: String(DEFAULT_PG_TIMEOUTS.idleInTransactionMs) });
  const pid = frozen.child.pid!;
  await waitFor("the worker stopped inside its batch", () => isStopped(pid), 10_000);
  const frozenAt = Date.now();
  // Its open transaction holds the held sale's row, as a repair finds it.
  await expect(db.pool.query("SELECT 1 FROM sales WHERE id = $1 FOR UPDATE NOWAIT", [held.id])).rejects.toMatchObject({ code: "55P03" });
  accepted.push(...(await buy(gateway.url, other.id, Array.from({ length: FIRST }, (_, i) => `other-${i}`))));

  // Redis restarts from its AOF: both sales are held until rebuilt on the new process.
  await redisServer.stop();
  await redisServer.resume();
  const restartedAt = Date.now();
  await waitFor("the other sale repaired", async () => (await repairs(other.id)) === 1, HELD_BOUND_MS + 5000);
  const otherRepairedMs = Date.now() - restartedAt;
  const heldRepairsThen = await repairs(held.id);
  await waitFor("the held sale repaired", async () => (await repairs(held.id)) === 1, HELD_BOUND_MS + 5000);
  const heldRepairedMs = Date.now() - frozenAt;

  expect(otherRepairedMs).toBeLessThan(AT_ONCE_MS);
  expect(heldRepairsThen).toBe(0);
  expect(heldRepairedMs).toBeGreaterThanOrEqual(DEFAULT_PG_TIMEOUTS.idleInTransactionMs - 500);
  expect(heldRepairedMs).toBeLessThan(HELD_BOUND_MS);

  // The worker goes on: its session is gone, so it writes the batch again; then both sell out.
  frozen.child.kill("SIGCONT");
  for (const sale of [held, other]) {
    const rush = new Rush(gateway.url, sale.id, `rest-${sale.id}`, 4).start();
    await rush.finished();
    accepted.push(...rush.accepted);
    expect([...rush.refused.keys()].filter((status) => status !== 429)).toEqual([]); // the per-IP limit aside, nothing refused
  }
  for (const sale of [held, other]) {
    await waitForRows(db.pool, sale.id, STOCK);
    expect(await countSale(redis, db.pool, sale.id)).toEqual(balancedCount(STOCK, 0));
  }
  const { rows } = await db.pool.query<{ order_id: string; user_id: string }>("SELECT order_id, user_id FROM orders WHERE sale_id = ANY($1)", [[held.id, other.id]]);
  const owners = new Map(rows.map((r) => [r.order_id, r.user_id]));
  expect(accepted.filter((a) => owners.get(a.orderId) !== a.user)).toEqual([]);
  expect(accepted).toHaveLength(2 * STOCK);
  console.log(`other sale repaired ${otherRepairedMs} ms after Redis restarted; the held one ${heldRepairedMs} ms after the worker froze`);
}, 90_000);
