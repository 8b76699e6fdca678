/**
 * Reloading the gateway: SIGHUP while wrk drives purchases loses no request, and the counted
 * sale balances; `make reload` (scripts/nginx.sh) refuses a broken config and the old one
 * keeps serving.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { saleKeys } from "@flash-sale/contract/keys";
import { LOAD_TEST_KNOBS, runNginxScript, waitForSale } from "./support/gateway";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { REPO_ROOT, waitFor } from "./support/stream-fixtures";
import { balancedCount, countSale, waitForRows } from "./support/counts";
import { purchase } from "./support/http";
import { signToken } from "./support/tokens";
import { wrkAsync } from "./support/wrk";
import { scrape } from "./support/prometheus";

const WIDE_LIMITS = { userRatePerSecond: 1_000_000, userBurst: 1_000_000, admitPerSecond: 1_000_000 };
const CONNECTIONS = 16;
const THREADS = 2;
const SECONDS = 6;
/** More shoppers than wrk can send in SECONDS here, so none buys twice (the run checks it). */
const SHOPPERS = 80_000;

let tmp: string;

const stack = useStack(new TestStack({ name: "gateway_reload", knobs: LOAD_TEST_KNOBS, worker: { batchSize: 1000 } }), async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "fs-reload-"));
  stack.onStop(() => rmSync(tmp, { recursive: true, force: true }));
});

function writeTokens(count: number): string {
  const file = path.join(tmp, "shoppers.tokens");
  const lines: string[] = [];
  // Same-width ids make same-length tokens, which the wrk script slices by offset.
  for (let i = 0; i < count; i++) lines.push(signToken(`reload-${String(i).padStart(7, "0")}`));
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

test("nginx -s reload three times under wrk: no failed request, and the counted sale balances", async () => {
  const sale = await stack.controlPlane.createSale({ id: "reload", stock: 10_000_000, limits: WIDE_LIMITS });
  await waitForSale(stack.gateway, sale.id);
  const tokens = writeTokens(SHOPPERS);
  const master = stack.gateway.masterPid();
  const workersBefore = stack.gateway.workerPids();

  const run = wrkAsync({
    url: `${stack.gateway.url}/api/sales/${sale.id}/purchase`,
    threads: THREADS,
    connections: CONNECTIONS,
    seconds: SECONDS,
    args: ["-s", path.join(REPO_ROOT, "bench/wrk/purchase.lua")],
    // A connection per request, as distinct shoppers arrive. (On keep-alive connections a reload
    // closes the idle ones, and a request sent at that instant gets no answer: nginx never read
    // it, the client retries. wrk counts those as read errors; see docs/operations.md, "Reloading nginx".)
    env: { BENCH_TOKENS: tokens, BENCH_THREADS: String(THREADS), BENCH_CONNECTION_CLOSE: "1" },
  });
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 1500));
    stack.gateway.reload();
  }
  const result = await run;

  // The reloads happened: the same master, new workers.
  expect(stack.gateway.masterPid()).toBe(master);
  await waitFor("the old workers to exit", () => stack.gateway.workerPids().every((p) => !workersBefore.includes(p)), 5000);
  expect(result.requests).toBeGreaterThan(1000);
  expect(result.requests).toBeLessThan(SHOPPERS);
  expect({ non2xx: result.non2xx, socketErrors: result.socketErrors }).toEqual({ non2xx: 0, socketErrors: 0 });

  // wrk drops the answers in flight when it stops: up to one per connection were sold unseen.
  const sold = Number(await stack.redis.get(saleKeys(sale.id).sold));
  expect(sold).toBeGreaterThanOrEqual(result.requests);
  expect(sold).toBeLessThanOrEqual(result.requests + CONNECTIONS);
  await waitForRows(stack.db.pool, sale.id, sold, 30_000);
  const count = await countSale(stack.redis, stack.db.pool, sale.id);
  expect(count).toEqual(balancedCount(sold, 10_000_000 - sold));
  // The metrics live in a shared dict, which outlives reloads.
  const metrics = await scrape(stack.gateway.metricsUrl);
  expect(metrics.value("fs_gateway_requests_total", { route: "purchase", sale: sale.id, outcome: "accepted" })).toBe(sold);
  expect(stack.gateway.errorLines()).toEqual([]);
}, 40_000);

/** scripts/nginx.sh (make reload) against the test gateway, with knob overrides. */
function makeReload(knobOverrides: Record<string, string>): Promise<{ status: number | null; output: string }> {
  return runNginxScript(stack.gateway, { ...LOAD_TEST_KNOBS, ...knobOverrides });
}

function confHash(): string {
  return createHash("sha256").update(readFileSync(path.join(stack.gateway.prefix, "nginx.conf"))).digest("hex");
}

test("make reload refuses a broken knob and the old config keeps serving; a good one is applied", async () => {
  const sale = await stack.controlPlane.createSale({ id: "reload-refused", stock: 100 });
  await waitForSale(stack.gateway, sale.id);
  const master = stack.gateway.masterPid();
  const workers = stack.gateway.workerPids();
  const hash = confHash();

  const refused = await makeReload({ ip_rate: "plenty" });
  expect(refused.status).not.toBe(0);
  expect(refused.output).toMatch(/invalid.*the config in force is unchanged/);
  // Nothing changed: the files on disk, the processes, the answers.
  expect(confHash()).toBe(hash);
  expect(stack.gateway.masterPid()).toBe(master);
  expect(stack.gateway.workerPids()).toEqual(workers);
  expect((await purchase(stack.gateway.url, sale.id, signToken("after-refusal"))).status).toBe(202);

  const applied = await makeReload({ ip_burst: "4321" });
  expect(applied.output).toContain("Reloading nginx");
  expect(applied.status).toBe(0);
  expect(readFileSync(path.join(stack.gateway.prefix, "nginx.conf"), "utf8")).toContain("burst=4321");
  await waitFor("new workers", () => stack.gateway.workerPids().every((p) => !workers.includes(p)), 5000);
  expect((await purchase(stack.gateway.url, sale.id, signToken("after-reload"))).status).toBe(202);
  // A refused render is just as harmless: ip_nodelay takes on/off only.
  const hashAfter = confHash();
  expect((await makeReload({ ip_nodelay: "sometimes" })).status).not.toBe(0);
  expect(confHash()).toBe(hashAfter);
});
