/**
 * Reconciliation notices each drift injected behind its back, against a real Redis (private)
 * and Postgres (a fresh database) with the real order worker: a unit removed from Redis, `sold`
 * lowered, the order counter lowered, an order's owner changed in its Redis record, entries left
 * pending with no worker reading them. Each is reported in the sale's stats, in the job's log
 * and on /metrics, alone, and gone once undone; the sale ends counted.
 */
import { ORDER_CONSUMER_GROUP, saleKeys } from "@flash-sale/contract/keys";
import type { Logger } from "@flash-sale/node-common";
import { reconcileSalesJob } from "../control-plane/src/jobs/reconcile-sales";
import { ControlPlaneMetrics } from "../control-plane/src/metrics";
import { SaleRepository } from "../control-plane/src/store/sale-repository";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import type { ServedApp } from "./support/admin-app";
import { TEST_ADMIN_TOKEN } from "./support/control-plane";
import { countSale, waitForRows } from "./support/counts";
import { scrape } from "./support/prometheus";
import { buyAll, type AcceptedOrder } from "./support/purchase-script";
import { startWorker, waitFor } from "./support/stream-fixtures";

jest.setTimeout(90_000);

/** A consumer idle longer is no live worker; short here, so that the test waits little. */
const IDLE_LIMIT_MS = 500;
const SALE = "watched";

let server: ServedApp;
const lines: { level: string; obj: any; msg: string }[] = [];

/** A logger that keeps what it is told. */
function recordingLogger(): Logger {
  const at = (level: string) => (obj: unknown, msg?: string) => void lines.push({ level, obj, msg: msg ?? String(obj) });
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } as unknown as Logger;
}

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

const stack = useStack(new TestStack({ name: "control_plane_reconciliation", gateway: false, controlPlane: false }), async () => {
  server = await stack.serveAdminApp({ metrics: new ControlPlaneMetrics(stack.redis, stack.db.pool, IDLE_LIMIT_MS) });
});

/** One run of the job, then what it reported: the sale's stats, its warning (if any) and /metrics. */
async function reconcile() {
  const from = lines.length;
  await reconcileSalesJob({ redis: stack.redis, repository: new SaleRepository(stack.db.pool), logger: recordingLogger(), workerIdleLimitMs: IDLE_LIMIT_MS }, "0 * * * * *", 10_000).run();
  const warnings = lines.slice(from).filter((l) => l.level === "warn" && l.obj.saleId === SALE);
  const metrics = await scrape(`${server.url}/metrics`);
  const sale = { sale: SALE };
  return {
    stats: (await admin("GET", `/admin/api/sales/${SALE}`)).stats.reconciliation,
    problems: warnings.map((w) => ({ msg: w.msg, problems: w.obj.problems })),
    metrics: {
      unitDrift: metrics.value("fs_control_plane_reconcile_unit_drift", sale),
      takenDrift: metrics.value("fs_control_plane_reconcile_taken_drift", sale),
      orderDrift: metrics.value("fs_control_plane_reconcile_order_drift", sale),
      counterBehind: metrics.value("fs_control_plane_reconcile_counter_behind", sale),
      ownerMismatches: metrics.value("fs_control_plane_reconcile_owner_mismatches", sale),
      oldestPendingSeconds: metrics.value("fs_control_plane_oldest_pending_seconds", sale),
      liveWorkers: metrics.value("fs_control_plane_live_workers"),
    },
  };
}

const CLEAN = { unitDrift: 0, takenDrift: 0, orderDrift: 0, counterBehind: 0, ownerMismatches: 0 };
/** The job's warnings for one run that found `problems`. */
const drift = (problems: string[]) => [{ msg: "sale drift: Redis and Postgres disagree", problems }];

test("each injected drift is reported in the sale's stats, the logs and /metrics, and gone once undone", async () => {
  const created = await admin("POST", "/admin/api/sales", {
    id: SALE,
    name: "Watched",
    price: 100,
    stock: 20,
    deduction: "order",
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
  });
  expect(created.id).toBe(SALE);
  const k = saleKeys(SALE);
  const accepted: AcceptedOrder[] = await buyAll(stack.redis, SALE, Array.from({ length: 12 }, (_, i) => ({ userId: `u${i}`, qty: 1 })), 1);
  expect(accepted).toHaveLength(12);
  let worker = startWorker({ redisUrl: stack.redisServer.url(), databaseUrl: stack.db.url, name: "reconcile-worker", batchSize: 100 });
  await waitForRows(stack.db.pool, SALE, 12);
  expect(await worker.stop()).toEqual({ code: 0, signal: null });

  const clean = await reconcile();
  expect(clean.stats).toMatchObject({ ...CLEAN, total: 20, unitsLeft: 8, unitsSold: 12, unitsTakenByOrders: 12, ordersAccepted: 12, ordersPersisted: 12, ordersInFlight: 0, highestOrderNo: 12, workerDown: false, oldestPendingSeconds: null });
  expect(clean.problems).toEqual([]);
  expect(clean.metrics).toMatchObject({ ...CLEAN, oldestPendingSeconds: 0 });

  const injections: [string, () => Promise<unknown>, () => Promise<unknown>, object, string[], object][] = [
    ["a unit removed from Redis", () => stack.redis.decr(k.stock), () => stack.redis.incr(k.stock), { unitDrift: 1, unitsLeft: 7 }, ["unit_drift"], { unitDrift: 1 }],
    ["sold lowered", () => stack.redis.decr(k.sold), () => stack.redis.incr(k.sold), { unitDrift: 1, takenDrift: -1, unitsSold: 11 }, ["unit_drift", "taken_drift"], { unitDrift: 1, takenDrift: -1 }],
    ["the counter lowered", () => stack.redis.decr(k.orderSeq), () => stack.redis.incr(k.orderSeq), { orderDrift: -1, counterBehind: 1, ordersAccepted: 11 }, ["order_drift", "counter_behind"], { orderDrift: -1, counterBehind: 1 }],
  ];
  // An owner changed: order 3's record names someone else (same quantity, same epoch).
  const third = accepted.find((o) => o.orderNo === 3)!;
  const record = (await stack.redis.hget(k.orders, "3"))!;
  injections.push([
    "an owner changed in the Redis record",
    () => stack.redis.hset(k.orders, "3", record.replace(/^[^\t]+/, "mallory")),
    () => stack.redis.hset(k.orders, "3", record),
    { ownerMismatches: 1, ownerMismatchExamples: [{ orderId: third.orderId, field: "user", postgres: third.userId, redis: "mallory" }] },
    ["owner_mismatches"],
    { ownerMismatches: 1 },
  ]);

  for (const [what, inject, undo, stats, problems, metrics] of injections) {
    await inject();
    const found = await reconcile();
    expect([what, found.stats]).toEqual([what, expect.objectContaining({ ...CLEAN, ...stats })]);
    expect([what, found.problems]).toEqual([what, drift(problems)]);
    expect([what, found.metrics]).toEqual([what, expect.objectContaining({ ...CLEAN, ...metrics })]);
    await undo();
    const undone = await reconcile();
    expect([what, undone.stats, undone.problems, undone.metrics]).toEqual([what, expect.objectContaining(CLEAN), [], expect.objectContaining(CLEAN)]);
  }

  // Entries left pending: three more orders, read by a worker that then died (never acknowledged).
  const late = await buyAll(stack.redis, SALE, [{ userId: "late-0", qty: 1 }, { userId: "late-1", qty: 1 }, { userId: "late-2", qty: 1 }], 1);
  expect(late).toHaveLength(3);
  await stack.redis.call("XREADGROUP", ["GROUP", ORDER_CONSUMER_GROUP, "gone-worker", "COUNT", 10, "STREAMS", k.stream, ">"]);
  await waitFor("the dead consumer idle past the limit", async () => {
    const consumers = (await stack.redis.call("XINFO", ["CONSUMERS", k.stream, ORDER_CONSUMER_GROUP])) as unknown[][];
    return consumers.every((c) => Number(c[c.indexOf("idle") + 1]) > IDLE_LIMIT_MS + 100);
  });
  const stuck = await reconcile();
  expect(stuck.stats).toMatchObject({ ...CLEAN, ordersAccepted: 15, ordersPersisted: 12, ordersInFlight: 3, liveWorkers: 0, workerDown: true });
  expect(stuck.stats.oldestPendingSeconds).toBeGreaterThan(IDLE_LIMIT_MS / 1000);
  expect(stuck.problems).toEqual(drift(["worker_down"]));
  expect(stuck.metrics).toMatchObject({ ...CLEAN, liveWorkers: 0 });
  expect(stuck.metrics.oldestPendingSeconds).toBeGreaterThan(IDLE_LIMIT_MS / 1000);

  // A worker again: it claims the dead one's entries (idle past FS_WORKER_CLAIM_IDLE_MS) and drains them.
  worker = startWorker({ redisUrl: stack.redisServer.url(), databaseUrl: stack.db.url, name: "reconcile-worker", batchSize: 100 });
  await waitForRows(stack.db.pool, SALE, 15);
  await waitFor("every entry acknowledged", async () => (await reconcile()).stats.ordersInFlight === 0);
  expect(await worker.stop()).toEqual({ code: 0, signal: null });
  const drained = await reconcile();
  expect(drained.stats).toMatchObject({ ...CLEAN, ordersAccepted: 15, ordersPersisted: 15, workerDown: false, oldestPendingSeconds: null });
  expect(drained.problems).toEqual([]);
  expect(drained.metrics).toMatchObject({ ...CLEAN, oldestPendingSeconds: 0 });

  expect(await countSale(stack.redis, stack.db.pool, SALE)).toEqual({
    unitsLeft: 5,
    unitsSold: 15,
    buyers: 15,
    unitsGranted: 15,
    redisOrders: 15,
    streamEntries: 15,
    pgRows: 15,
    pgDistinctUsers: 15,
    pgUnits: 15,
    pgDuplicateUsers: 0,
  });
});
