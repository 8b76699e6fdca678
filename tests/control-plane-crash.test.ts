/**
 * The control plane SIGKILLed (FS_CONTROL_PLANE_FAULT, see control-plane/src/faults.ts) during
 * a stock change, during a publish and during an expiry run, as a real child process, with a
 * real gateway (nginx), the order worker, a private Redis and a fresh database. After each
 * kill, Redis is behind Postgres, never ahead; after the restart, keep-sales-built applies
 * what was saved, and every sale ends counted: units left + taken = the total in Postgres,
 * the revision applied, the audit rows there, every 202 a shopper saw in Postgres once,
 * nothing created or stranded.
 */
import { SALE_CONFIGS_KEY, saleKeys } from "@flash-sale/contract/keys";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { ControlPlaneProcess } from "./support/control-plane-process";
import { balancedCount, countSale, postgresOrderStatuses, redisOrderStatuses, waitForRows } from "./support/counts";
import { LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { purchase, request } from "./support/http";
import { waitFor } from "./support/stream-fixtures";
import { signToken } from "./support/tokens";

jest.setTimeout(240_000);

/** A restarted control plane may find a job's lease still held by the killed one (LEASE_MS). */
const REAPPLY_WITHIN_MS = 60_000;

let controlPlane: ControlPlaneProcess | undefined;

const stack = useStack(new TestStack({ name: "control_plane_crash", knobs: LOAD_TEST_KNOBS, controlPlane: false, worker: { name: "crash-worker", batchSize: 50 } }), async () => {
  stack.onStop(() => controlPlane?.stop());
});

/** Stops the running control plane (if any) and starts one, with `fault` when given. */
async function restartControlPlane(fault?: string): Promise<ControlPlaneProcess> {
  await controlPlane?.stop();
  controlPlane = await ControlPlaneProcess.start({
    redisUrl: stack.redisServer.url(),
    databaseUrl: stack.db.url,
    gatewayMetricsUrl: stack.gateway.metricsUrl,
    env: fault === undefined ? {} : { FS_CONTROL_PLANE_FAULT: fault },
  });
  return controlPlane;
}

/** The call never answers: the process SIGKILLs itself at the fault point. */
async function expectKilledDuring(cp: ControlPlaneProcess, call: Promise<unknown>, point: string): Promise<void> {
  await expect(call).rejects.toThrow();
  expect(await cp.exited).toEqual({ code: null, signal: "SIGKILL" });
  expect(cp.stderr()).toContain(`fault injection: SIGKILL at ${point}`);
}

function saleInput(id: string, stock: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Date.now();
  return {
    id,
    name: `Sale ${id}`,
    price: 500,
    stock,
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    deduction: "order",
    limits: { admitPerSecond: 100_000 },
    ...extra,
  };
}

/** What shoppers of a sale saw: every 202's order id by shopper, and answers by status. */
interface Shoppers {
  next: number;
  accepted: Map<string, string>;
  statuses: Map<number, number>;
}
const shoppers = new Map<string, Shoppers>();

/** `count` new shoppers each try to buy one unit, all at once; answers the statuses of this round. */
async function shop(saleId: string, count: number): Promise<Map<number, number>> {
  const s = shoppers.get(saleId) ?? { next: 0, accepted: new Map(), statuses: new Map() };
  shoppers.set(saleId, s);
  const users = Array.from({ length: count }, () => `${saleId}-shopper-${s.next++}`);
  const answers = await Promise.all(users.map((u) => purchase(stack.gateway.url, saleId, signToken(u))));
  const round = new Map<number, number>();
  answers.forEach((r, i) => {
    round.set(r.status, (round.get(r.status) ?? 0) + 1);
    s.statuses.set(r.status, (s.statuses.get(r.status) ?? 0) + 1);
    if (r.status === 202) s.accepted.set(users[i]!, r.json().orderId as string);
  });
  return round;
}

async function storedSale(id: string): Promise<{ stock: number; revision: number; published: boolean } | undefined> {
  const { rows } = await stack.db.pool.query("SELECT stock, revision, published_at FROM sales WHERE id = $1", [id]);
  const row = rows[0];
  return row === undefined ? undefined : { stock: row.stock, revision: Number(row.revision), published: row.published_at !== null };
}

/** The revision Redis applied to the sale's keys (meta) and to its config record; 0 when absent. */
async function appliedRevisions(id: string): Promise<{ meta: number; config: number; configStock: number | undefined }> {
  const json = await stack.redis.hget(SALE_CONFIGS_KEY, id);
  const record = json === null ? undefined : (JSON.parse(json) as { revision: number; stock: number });
  return { meta: Number((await stack.redis.hget(saleKeys(id).meta, "revision")) ?? 0), config: record?.revision ?? 0, configStock: record?.stock };
}

async function waitUntilApplied(id: string): Promise<void> {
  const stored = await storedSale(id);
  const started = Date.now();
  await waitFor(
    `sale ${id} applied at revision ${stored?.revision}`,
    async () => {
      const applied = await appliedRevisions(id);
      return applied.meta === stored?.revision && applied.config === stored.revision;
    },
    REAPPLY_WITHIN_MS,
  );
  console.log(`sale ${id}: revision ${stored?.revision} applied ${Date.now() - started} ms after the restarted control plane listened`);
  await waitForSale(stack.gateway, id);
}

async function auditActions(id: string): Promise<string[]> {
  const { rows } = await stack.db.pool.query("SELECT action FROM sale_audit WHERE sale_id = $1 ORDER BY id", [id]);
  return rows.map((r) => r.action as string);
}

/**
 * The end of every test: the sale's count, every 202 a shopper saw in Postgres (with its
 * shopper), units left + taken = the total in Postgres, and the revision applied everywhere.
 */
async function expectCounted(id: string, sold: number): Promise<void> {
  const seen = shoppers.get(id)!;
  expect(seen.accepted.size).toBe(sold);
  await waitForRows(stack.db.pool, id, sold);
  const stored = (await storedSale(id))!;
  expect(await countSale(stack.redis, stack.db.pool, id)).toEqual(balancedCount(sold, stored.stock - sold));
  const { rows } = await stack.db.pool.query("SELECT order_id, user_id FROM orders WHERE sale_id = $1", [id]);
  expect(new Map(rows.map((r) => [r.user_id as string, r.order_id as string]))).toEqual(seen.accepted);
  expect(await appliedRevisions(id)).toEqual({ meta: stored.revision, config: stored.revision, configStock: stored.stock });
}

/** Every sale Redis holds keys or a config of is in Postgres, and every published one has its config. */
async function expectNothingStranded(): Promise<void> {
  const inRedis = new Set((await stack.redis.keys("fs:{sale:*")).map((k) => /^fs:\{sale:([^}]+)\}/.exec(k)![1]!));
  for (const id of await stack.redis.hkeys(SALE_CONFIGS_KEY)) inRedis.add(id);
  const { rows } = await stack.db.pool.query("SELECT id FROM sales WHERE published_at IS NOT NULL ORDER BY id");
  const published = rows.map((r) => r.id as string);
  expect([...inRedis].sort()).toEqual(published);
  expect((await stack.redis.hkeys(SALE_CONFIGS_KEY)).sort()).toEqual(published);
}

test("killed during a stock change, after the commit and between the sale's keys and its config: Redis catches up, counted", async () => {
  let cp = await restartControlPlane();
  expect((await cp.admin("POST", "/admin/api/sales", saleInput("restock", 20))).status).toBe(201);
  await waitForSale(stack.gateway, "restock");
  expect((await shop("restock", 8)).get(202)).toBe(8);

  // Killed after the commit: Postgres holds the raise, its audit row and revision; Redis none of it.
  cp = await restartControlPlane("kill-after-commit:update");
  const before = (await storedSale("restock"))!;
  await expectKilledDuring(cp, cp.admin("PATCH", "/admin/api/sales/restock", { stock: 30 }), "after-commit of update");
  const raised = (await storedSale("restock"))!;
  expect(raised).toEqual({ stock: 30, revision: before.revision + 1, published: true });
  expect(await auditActions("restock")).toEqual(["create", "publish", "update"]);
  expect(await appliedRevisions("restock")).toEqual({ meta: before.revision, config: before.revision, configStock: 20 });
  expect(await stack.redis.get(saleKeys("restock").stock)).toBe("12");

  // Shoppers keep buying from Redis while no control plane runs.
  expect((await shop("restock", 4)).get(202)).toBe(4);
  cp = await restartControlPlane();
  await waitUntilApplied("restock");
  expect(await stack.redis.mget(saleKeys("restock").stock, saleKeys("restock").sold)).toEqual(["18", "12"]);

  // Killed between the sale's keys and its config record: the keys are at the new revision.
  cp = await restartControlPlane("kill-mid-apply:update");
  await expectKilledDuring(cp, cp.admin("PATCH", "/admin/api/sales/restock", { stock: 25 }), "mid-apply of update");
  const lowered = (await storedSale("restock"))!;
  expect(lowered).toEqual({ stock: 25, revision: raised.revision + 1, published: true });
  expect(await appliedRevisions("restock")).toEqual({ meta: lowered.revision, config: raised.revision, configStock: 30 });
  expect(await stack.redis.get(saleKeys("restock").stock)).toBe("13");
  expect((await shop("restock", 3)).get(202)).toBe(3);

  cp = await restartControlPlane();
  await waitUntilApplied("restock");
  const last = await shop("restock", 15);
  expect([last.get(202), last.get(410)]).toEqual([10, 5]);
  await expectCounted("restock", 25);
  expect(await auditActions("restock")).toEqual(["create", "publish", "update", "update"]);
  await expectNothingStranded();
});

test("killed while lowering the stock, after the units were taken out of Redis and after the commit: never sold beyond the stock Postgres holds, counted", async () => {
  const k = saleKeys("lower");
  let cp = await restartControlPlane("kill-after-take:update");
  expect((await cp.admin("POST", "/admin/api/sales", saleInput("lower", 40))).status).toBe(201);
  await waitForSale(stack.gateway, "lower");
  expect((await shop("lower", 10)).get(202)).toBe(10);

  // Taken out of Redis, never committed: Redis sells on 20 while Postgres still holds 40.
  const before = (await storedSale("lower"))!;
  await expectKilledDuring(cp, cp.admin("PATCH", "/admin/api/sales/lower", { stock: 20 }), "after-take of update");
  expect(await storedSale("lower")).toEqual(before);
  expect(await auditActions("lower")).toEqual(["create", "publish"]);
  expect(await stack.redis.mget(k.stock, k.sold)).toEqual(["10", "10"]);
  expect((await shop("lower", 5)).get(202)).toBe(5);
  // The restarted control plane undoes it: its revision never committed.
  cp = await restartControlPlane("kill-after-commit:update");
  await waitFor("the lowering that never committed undone", async () => (await stack.redis.hget(k.meta, "lowerIntent")) === null, REAPPLY_WITHIN_MS);
  expect(await stack.redis.mget(k.stock, k.sold)).toEqual(["25", "15"]);

  // Taken out of Redis, committed, killed before the apply: Redis already sells on the new total.
  await expectKilledDuring(cp, cp.admin("PATCH", "/admin/api/sales/lower", { stock: 30 }), "after-commit of update");
  expect(await storedSale("lower")).toEqual({ stock: 30, revision: before.revision + 1, published: true });
  expect(await appliedRevisions("lower")).toEqual({ meta: before.revision, config: before.revision, configStock: 40 });
  expect(await stack.redis.mget(k.stock, k.sold)).toEqual(["15", "15"]);
  const round = await shop("lower", 20);
  expect([round.get(202), round.get(410)]).toEqual([15, 5]);
  expect(Number(await stack.redis.get(k.sold))).toBe((await storedSale("lower"))!.stock);

  await restartControlPlane();
  await waitUntilApplied("lower");
  expect(await stack.redis.hget(k.meta, "lowerIntent")).toBeNull();
  await expectCounted("lower", 30);
  expect(await auditActions("lower")).toEqual(["create", "publish", "update"]);
});

test("killed during a publish, after the commit and between the sale's keys and its config: published, never a draft, counted", async () => {
  // After the commit: the sale is published in Postgres, Redis has nothing of it.
  let cp = await restartControlPlane("kill-after-commit:publish");
  await expectKilledDuring(cp, cp.admin("POST", "/admin/api/sales", saleInput("late-publish", 6)), "after-commit of publish");
  expect(await storedSale("late-publish")).toMatchObject({ published: true });
  expect(await auditActions("late-publish")).toEqual(["create", "publish"]);
  expect(await stack.redis.keys("fs:{sale:late-publish}*")).toEqual([]);
  expect(await stack.redis.hexists(SALE_CONFIGS_KEY, "late-publish")).toBe(0);
  expect((await request(`${stack.gateway.url}/api/sales/late-publish`)).status).toBe(404);

  // Between the sale's keys and its config record: built in Redis, unknown to the gateways.
  cp = await restartControlPlane("kill-mid-apply:publish");
  await expectKilledDuring(cp, cp.admin("POST", "/admin/api/sales", saleInput("half-publish", 6)), "mid-apply of publish");
  const half = (await storedSale("half-publish"))!;
  expect(await appliedRevisions("half-publish")).toEqual({ meta: half.revision, config: 0, configStock: undefined });
  expect(await stack.redis.get(saleKeys("half-publish").stock)).toBe("6");
  expect((await request(`${stack.gateway.url}/api/sales/half-publish`)).status).toBe(404);

  cp = await restartControlPlane();
  for (const id of ["late-publish", "half-publish"]) {
    await waitUntilApplied(id);
    expect((await cp.admin("GET", `/admin/api/sales/${id}`)).body.state).toBe("active");
    const round = await shop(id, 10);
    expect([round.get(202), round.get(410)]).toEqual([6, 4]);
    await expectCounted(id, 6);
    // A live sale with orders is never deleted (and with them its keys and stream).
    expect((await cp.admin("DELETE", `/admin/api/sales/${id}`)).status).toBe(409);
    await expectCounted(id, 6);
  }
  await expectNothingStranded();
});

test("killed during an expiry run: the expired units sell again, Redis and Postgres agree on every status, counted", async () => {
  const pay = (orderId: string, user: string) =>
    request(`${stack.gateway.url}/api/orders/${orderId}/pay`, { method: "POST", headers: { Authorization: `Bearer ${signToken(user)}` } });
  let cp = await restartControlPlane("kill-mid-expiry");
  const created = await cp.admin("POST", "/admin/api/sales", saleInput("expiring", 5, { deduction: "reserve", paymentTimeoutSeconds: 3 }));
  expect(created.status).toBe(201);
  await waitForSale(stack.gateway, "expiring");
  const first = await shop("expiring", 7);
  expect([first.get(202), first.get(410)]).toEqual([5, 2]);
  await waitForRows(stack.db.pool, "expiring", 5);

  // Nobody pays: the expiry job expires the five in Redis and is killed before anything else.
  await waitFor("the control plane killed during its expiry run", async () => cp.child.exitCode !== null || cp.child.signalCode !== null, REAPPLY_WITHIN_MS);
  expect(await cp.exited).toEqual({ code: null, signal: "SIGKILL" });
  expect(cp.stderr()).toContain("fault injection: SIGKILL at mid-expiry");
  expect(await redisOrderStatuses(stack.redis, "expiring", "reserved")).toEqual({ expired: 5 });
  expect(await stack.redis.mget(saleKeys("expiring").stock, saleKeys("expiring").sold)).toEqual(["5", "0"]);
  // The statuses reach Postgres through the order worker, with the control plane down.
  await waitFor(
    "the expired statuses in Postgres",
    async () => (await postgresOrderStatuses(stack.db.pool, "expiring", "reserved")).expired === 5,
    REAPPLY_WITHIN_MS,
  );

  cp = await restartControlPlane();
  // The five units sell again, and these shoppers pay at once.
  const before = new Set(shoppers.get("expiring")!.accepted.keys());
  const second = await shop("expiring", 7);
  expect([second.get(202), second.get(410)]).toEqual([5, 2]);
  const payers = [...shoppers.get("expiring")!.accepted].filter(([user]) => !before.has(user));
  for (const r of await Promise.all(payers.map(([user, orderId]) => pay(orderId, user)))) expect(r.status).toBe(200);

  await waitForRows(stack.db.pool, "expiring", 10);
  await waitFor(
    "every status in Postgres as in Redis",
    async () => JSON.stringify(await postgresOrderStatuses(stack.db.pool, "expiring", "reserved")) === JSON.stringify({ expired: 5, paid: 5 }),
    REAPPLY_WITHIN_MS,
  );
  expect(await redisOrderStatuses(stack.redis, "expiring", "reserved")).toEqual({ expired: 5, paid: 5 });
  const count = await countSale(stack.redis, stack.db.pool, "expiring");
  expect(count).toEqual({ ...balancedCount(10, 0), unitsSold: 5 }); // ten orders, ten buyers; five units taken for good
  expect(await stack.redis.get(saleKeys("expiring").paid)).toBe("5");
  const { rows } = await stack.db.pool.query("SELECT order_id, user_id FROM orders WHERE sale_id = 'expiring'");
  expect(new Map(rows.map((r) => [r.user_id as string, r.order_id as string]))).toEqual(shoppers.get("expiring")!.accepted);
  await expectNothingStranded();
});
