/**
 * The load-test tools: the k6 scripts type-check against @types/k6 (k6 itself cannot be
 * installed here); the scenario generator reads a real sale from the admin API; the post-run
 * check passes a counted sale and fails it once an order is lost, duplicated or oversold.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { Gateway, LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import { TEST_ADMIN_TOKEN } from "./support/control-plane";
import { startWorker, type WorkerProcess } from "./support/stream-fixtures";
import { runTool } from "./support/run-tool";
import { countSale, waitForRows } from "./support/counts";
import { purchase } from "./support/http";
import { signToken } from "./support/tokens";
import { parseScenario } from "../load-test/k6/lib/scenario";

let tmp: string;

const stack = useStack(new TestStack({ name: "load_test_tools", gateway: false }), async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "fs-load-test-"));
  stack.onStop(() => rmSync(tmp, { recursive: true, force: true }));
});

test("the k6 scripts and the Node tools type-check (tsc with @types/k6)", async () => {
  const k6 = await runTool("npx", ["tsc", "-p", "load-test/k6/tsconfig.json"]);
  expect(k6.stdout + k6.stderr).toBe("");
  expect(k6.code).toBe(0);
  const node = await runTool("npx", ["tsc", "-p", "load-test/tsconfig.json"]);
  expect(node.stdout + node.stderr).toBe("");
  expect(node.code).toBe(0);
}, 30_000);

test("scenario-from-sale turns a sale's config into a spike that peaks at its opening", async () => {
  const startsAt = new Date(Date.now() + 120_000).toISOString();
  const sale = await stack.controlPlane.createSale({
    id: "scenario-source",
    stock: 500,
    perUserLimit: 2,
    startsAt,
    endsAt: new Date(Date.now() + 600_000).toISOString(),
    limits: { admitPerSecond: 300 },
  });
  const out = path.join(tmp, "spike.json");

  const r = await runTool(
    "npx",
    ["tsx", "load-test/scenario-from-sale.ts", "--sale", sale.id, "--admin-url", stack.controlPlane.url, "--gateway-url", "http://gw:8080", "--out", out],
    { FS_ADMIN_TOKEN: TEST_ADMIN_TOKEN },
  );

  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const scenario = parseScenario(readFileSync(out, "utf8"));
  expect(scenario).toMatchObject({
    gatewayUrl: "http://gw:8080",
    saleId: sale.id,
    stock: 500,
    perUserLimit: 2,
    startsAt: new Date(startsAt).toISOString(),
    // admitPerSecond (the whole fleet's) × the default overload of 2.
    peakRate: 600,
    rampSeconds: 10,
    holdSeconds: 30,
    maxVUs: 300,
  });
  expect(scenario.shopperPrefix).toMatch(/^k6-scenario-source-[0-9a-z]+-$/);
  const missing = await runTool("npx", ["tsx", "load-test/scenario-from-sale.ts", "--sale", "no-such-sale", "--admin-url", stack.controlPlane.url], {
    FS_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  });
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain("404");
}, 20_000);

test("post-run check: a counted sale passes; a lost order fails it, so does one k6 was never told of, and a second unit for one shopper (duplicate, oversell)", async () => {
  const gateway = await Gateway.start({ redisUrl: stack.redisServer.url(), knobs: LOAD_TEST_KNOBS });
  const worker: WorkerProcess = startWorker({ redisUrl: stack.redisServer.url(), databaseUrl: stack.db.url, name: "post-run-check" });
  const units = 20;
  try {
    const sale = await stack.controlPlane.createSale({ id: "post-run", stock: units });
    await waitForSale(gateway, sale.id);
    const statuses = await Promise.all(Array.from({ length: 60 }, (_, i) => purchase(gateway.url, sale.id, signToken(`k6-like-${i}`)).then((r) => r.status)));
    expect(statuses.filter((s) => s === 202)).toHaveLength(units);
    await waitForRows(stack.db.pool, sale.id, units);
    expect(await countSale(stack.redis, stack.db.pool, sale.id)).toMatchObject({ unitsSold: units, pgRows: units, pgDuplicateUsers: 0 });
    const summary = path.join(tmp, "summary.json");
    writeFileSync(summary, JSON.stringify({ metrics: { orders_accepted: { count: units } } }));
    const check = (...extra: string[]) =>
      runTool("npx", ["tsx", "load-test/post-run-check.ts", "--sale", sale.id, "--k6-summary", summary, ...extra], {
        FS_DATABASE_URL: stack.db.url,
        FS_REDIS_URL: stack.redisServer.url(),
      });

    const balanced = await check();
    expect(balanced.stderr).toBe("");
    expect(balanced.stdout).toContain(`OK: ${units} orders`);
    expect(balanced.code).toBe(0);

    // k6 saw one 202 fewer: an order nobody was told of fails it, unless k6 was told it may have been taken.
    writeFileSync(summary, JSON.stringify({ metrics: { orders_accepted: { count: units - 1 } } }));
    const untold = await check();
    expect(untold.code).toBe(1);
    expect(untold.stderr).toContain(`untold: 1 order(s) in Postgres that k6 was never told of (${units - 1} answered 202, 0 may have been taken)`);
    writeFileSync(summary, JSON.stringify({ metrics: { orders_accepted: { count: units - 1 }, orders_uncertain: { count: 1 } } }));
    expect((await check()).code).toBe(0);
    writeFileSync(summary, JSON.stringify({ metrics: { orders_accepted: { count: units } } }));

    // A lost order: accepted (Redis, k6) but not in Postgres.
    const { rows } = await stack.db.pool.query<{ order_id: string; user_id: string; order_no: string }>(
      "DELETE FROM orders WHERE order_id = (SELECT min(order_id) FROM orders WHERE sale_id = $1) RETURNING order_id, user_id, order_no",
      [sale.id],
    );
    const lost = await check("--drain-timeout", "0");
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain("loss: 1 order(s) accepted in Redis are not in Postgres");
    expect(lost.stderr).toContain(`loss: k6 saw ${units} accepted, Postgres holds ${units - 1}`);

    // The same order back, plus a second unit for its shopper: a duplicate.
    const removed = rows[0]!;
    const insert = `INSERT INTO orders (order_id, sale_id, order_no, user_id, user_units, quantity, accepted_at, price, currency)
                    VALUES ($1, $2, $3, $4, $5, 1, now(), 199, 'USD')`;
    await stack.db.pool.query(insert, [removed.order_id, sale.id, removed.order_no, removed.user_id, 1]);
    await stack.db.pool.query(insert, [`${sale.id}.9001`, sale.id, 9001, removed.user_id, 2]);
    const duplicated = await check("--drain-timeout", "0");
    expect(duplicated.code).toBe(1);
    expect(duplicated.stderr).toContain("duplicates: 1 shopper(s) hold more than 1 unit(s)");
    // …which is also one unit more than the stock.
    expect(duplicated.stderr).toContain(`oversell: ${units + 1} units in Postgres, stock ${units}`);
  } finally {
    await worker.stop();
    await gateway.stop();
  }
}, 30_000);
