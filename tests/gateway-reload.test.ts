/**
 * Reloading the gateway: SIGHUP while wrk drives purchases loses no request, and the counted
 * sale balances; `make reload` (scripts/nginx.sh) refuses a broken config and the old one
 * keeps serving.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { saleKeys } from "@flash-sale/contract/keys";
import type { Redis } from "@flash-sale/node-common";
import { Gateway, LOAD_TEST_KNOBS, waitForSale } from "./support/gateway";
import type { TestDatabase } from "./support/test-database";
import type { ControlPlane } from "./support/control-plane";
import { TestStack } from "./support/test-stack";
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

let stack: TestStack;
let redis: Redis;
let db: TestDatabase;
let controlPlane: ControlPlane;
let gateway: Gateway;
let tmp: string;

beforeAll(async () => {
  stack = await TestStack.start({ name: "gateway_reload", knobs: LOAD_TEST_KNOBS, worker: { batchSize: 1000 } });
  ({ redis, db, controlPlane, gateway } = stack);
  tmp = mkdtempSync(path.join(tmpdir(), "fs-reload-"));
});

afterAll(async () => {
  await stack.stop();
  rmSync(tmp, { recursive: true, force: true });
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
  const sale = await controlPlane.createSale({ id: "reload", stock: 10_000_000, limits: WIDE_LIMITS });
  await waitForSale(gateway, sale.id);
  const tokens = writeTokens(SHOPPERS);
  const master = gateway.masterPid();
  const workersBefore = gateway.workerPids();

  const run = wrkAsync({
    url: `${gateway.url}/api/sales/${sale.id}/purchase`,
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
    gateway.reload();
  }
  const result = await run;

  // The reloads happened: the same master, new workers.
  expect(gateway.masterPid()).toBe(master);
  await waitFor("the old workers to exit", () => gateway.workerPids().every((p) => !workersBefore.includes(p)), 5000);
  expect(result.requests).toBeGreaterThan(1000);
  expect(result.requests).toBeLessThan(SHOPPERS);
  expect({ non2xx: result.non2xx, socketErrors: result.socketErrors }).toEqual({ non2xx: 0, socketErrors: 0 });

  // wrk drops the answers in flight when it stops: up to one per connection were sold unseen.
  const sold = Number(await redis.get(saleKeys(sale.id).sold));
  expect(sold).toBeGreaterThanOrEqual(result.requests);
  expect(sold).toBeLessThanOrEqual(result.requests + CONNECTIONS);
  await waitForRows(db.pool, sale.id, sold, 30_000);
  const count = await countSale(redis, db.pool, sale.id);
  expect(count).toEqual(balancedCount(sold, 10_000_000 - sold));
  // The metrics live in a shared dict, which outlives reloads.
  const metrics = await scrape(gateway.metricsUrl);
  expect(metrics.value("fs_gateway_requests_total", { route: "purchase", sale: sale.id, outcome: "accepted" })).toBe(sold);
  expect(gateway.errorLines()).toEqual([]);
}, 40_000);

/**
 * Runs scripts/nginx.sh (make reload) against the test gateway, with knob overrides. Not
 * spawnSync: the event loop must go on, or the keep-alive sockets a reload closes would look
 * alive to the next request.
 */
function makeReload(knobOverrides: Record<string, string>): Promise<{ status: number | null; output: string }> {
  const knobs: Record<string, string> = { ...LOAD_TEST_KNOBS, metrics_listen: `127.0.0.1:${gateway.metricsPort}`, ...knobOverrides };
  const env: NodeJS.ProcessEnv = { ...process.env, FS_NGINX_PREFIX: gateway.prefix, FS_NGINX_LISTEN: `127.0.0.1:${gateway.port}` };
  for (const [name, value] of Object.entries(knobs)) env[`FS_NGINX_${name.toUpperCase()}`] = value;
  return new Promise((resolve) => {
    const child = spawn("bash", [path.join(REPO_ROOT, "scripts/nginx.sh")], { env });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("close", (status) => resolve({ status, output }));
  });
}

function confHash(): string {
  return createHash("sha256").update(readFileSync(path.join(gateway.prefix, "nginx.conf"))).digest("hex");
}

test("make reload refuses a broken knob and the old config keeps serving; a good one is applied", async () => {
  const sale = await controlPlane.createSale({ id: "reload-refused", stock: 100 });
  await waitForSale(gateway, sale.id);
  const master = gateway.masterPid();
  const workers = gateway.workerPids();
  const hash = confHash();

  const refused = await makeReload({ ip_rate: "plenty" });
  expect(refused.status).not.toBe(0);
  expect(refused.output).toMatch(/invalid.*the config in force is unchanged/);
  // Nothing changed: the files on disk, the processes, the answers.
  expect(confHash()).toBe(hash);
  expect(gateway.masterPid()).toBe(master);
  expect(gateway.workerPids()).toEqual(workers);
  expect((await purchase(gateway.url, sale.id, signToken("after-refusal"))).status).toBe(202);

  const applied = await makeReload({ ip_burst: "4321" });
  expect(applied.output).toContain("Reloading nginx");
  expect(applied.status).toBe(0);
  expect(readFileSync(path.join(gateway.prefix, "nginx.conf"), "utf8")).toContain("burst=4321");
  await waitFor("new workers", () => gateway.workerPids().every((p) => !workers.includes(p)), 5000);
  expect((await purchase(gateway.url, sale.id, signToken("after-reload"))).status).toBe(202);
  // A refused render is just as harmless: ip_nodelay takes on/off only.
  const hashAfter = confHash();
  expect((await makeReload({ ip_nodelay: "sometimes" })).status).not.toBe(0);
  expect(confHash()).toBe(hashAfter);
});
