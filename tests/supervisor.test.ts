/**
 * scripts/supervise.js (what `make up` runs the Node services under) around the real order
 * worker, on a private Redis and a fresh database: a killed worker is restarted with its count
 * in the log and in fs_process_restarts_total, the delay doubles up to its cap and starts over
 * after a stable run (as shipped: 4 s at most, over after 10 s), orders accepted meanwhile are drained; SIGTERM stops the worker gracefully
 * and nothing restarts it, also while waiting to restart; a clean exit on its own is not restarted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { freePort } from "./support/ports";
import { buyAll } from "./support/purchase-script";
import { REPO_ROOT, publishSale, waitFor } from "./support/stream-fixtures";

jest.setTimeout(90_000);

let tmp: string;
const running: ChildProcess[] = [];

const stack = useStack(new TestStack({ name: "supervisor", gateway: false, controlPlane: false }), async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "fs-supervise-"));
  stack.onStop(() => rmSync(tmp, { recursive: true, force: true }));
  stack.onStop(() => {
    for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  });
});

interface Line {
  atMs: number;
  text: string;
}

interface Supervised {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  metricsUrl: string;
  logText: () => string;
  /** The supervisor's own lines of the log. */
  lines: () => Line[];
  /** The worker's pid, from the pid file the supervisor keeps. */
  childPid: () => number | undefined;
}

/** `backoff` undefined: the supervisor's shipped delays. */
async function supervise(name: string, backoff: { minMs: number; maxMs: number; stableMs: number } | undefined): Promise<Supervised> {
  const log = path.join(tmp, `${name}.log`);
  const pidFile = path.join(tmp, `${name}.child.pid`);
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    ["scripts/supervise.js", "--name", name, "--log", log, "--child-pid-file", pidFile, "--", process.execPath, "order-worker/build/main.js"],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        FS_REDIS_URL: stack.redisServer.url(),
        FS_DATABASE_URL: stack.db.url,
        FS_WORKER_NAME: name,
        FS_WORKER_BLOCK_MS: "200",
        FS_WORKER_METRICS_HOST: "127.0.0.1",
        FS_WORKER_METRICS_PORT: String(port),
        FS_WORKER_FAULT: "",
        FS_LOG_LEVEL: "info",
        FS_SUPERVISOR_BACKOFF_MIN_MS: backoff === undefined ? undefined : String(backoff.minMs),
        FS_SUPERVISOR_BACKOFF_MAX_MS: backoff === undefined ? undefined : String(backoff.maxMs),
        FS_SUPERVISOR_STABLE_MS: backoff === undefined ? undefined : String(backoff.stableMs),
      },
      stdio: "inherit",
    },
  );
  running.push(proc);
  const logText = () => (existsSync(log) ? readFileSync(log, "utf8") : "");
  return {
    proc,
    exited: new Promise((r) => proc.once("exit", (code, signal) => r({ code, signal }))),
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    logText,
    lines: () =>
      logText()
        .split("\n")
        .flatMap((l) => {
          const m = /^(\S+) supervise [\w-]+: (.*)$/.exec(l);
          return m ? [{ atMs: Date.parse(m[1]!), text: m[2]! }] : [];
        }),
    childPid: () => (existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : undefined),
  };
}

/** fs_process_restarts_total of the worker now serving /metrics; undefined while none answers. */
async function restartsMetric(s: Supervised): Promise<number | undefined> {
  try {
    const res = await fetch(s.metricsUrl);
    const m = /^fs_process_restarts_total\{service="order-worker"\} (\d+)$/m.exec(await res.text());
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const RESTART = /^pid (\d+) killed by SIGKILL after [\d.]+ s; restart (\d+) in ([\d.]+) s$/;
const STARTED = /^started pid (\d+) \(restarts so far: (\d+)\)$/;

/** SIGKILLs the worker once it serves `restarts`; answers the delay the supervisor announced. */
async function killWorker(s: Supervised, restarts: number): Promise<{ delayMs: number; gapMs: number }> {
  await waitFor(`the worker serving restart count ${restarts}`, async () => (await restartsMetric(s)) === restarts);
  const pid = s.childPid()!;
  const started = s.lines().filter((l) => STARTED.test(l.text));
  expect(started[started.length - 1]!.text).toBe(`started pid ${pid} (restarts so far: ${restarts})`);
  process.kill(pid, "SIGKILL");
  await waitFor(`restart ${restarts + 1} started`, () => s.lines().filter((l) => STARTED.test(l.text)).length === started.length + 1);
  const lines = s.lines();
  const exit = lines.findIndex((l) => RESTART.exec(l.text)?.[1] === String(pid));
  const m = RESTART.exec(lines[exit]!.text)!;
  expect(Number(m[2])).toBe(restarts + 1);
  return { delayMs: Number(m[3]) * 1000, gapMs: lines[exit + 1]!.atMs - lines[exit]!.atMs };
}

test("a killed worker is restarted with its count, later and later up to the cap, and starts over after a stable run", async () => {
  const s = await supervise("order-worker", { minMs: 200, maxMs: 800, stableMs: 8000 });
  const sale = { id: "supervised", stock: 50, perUserLimit: 1 };
  await publishSale(stack.db.pool, stack.redis, sale);

  const delays: number[] = [];
  for (let restarts = 0; restarts < 5; restarts++) {
    const { delayMs, gapMs } = await killWorker(s, restarts);
    delays.push(delayMs);
    expect(gapMs).toBeGreaterThanOrEqual(delayMs - 2); // waited at least what it said
  }
  expect(delays).toEqual([200, 400, 800, 800, 800]);

  // A run that lasted stableMs resets the delay.
  await waitFor("a stable run", async () => (await restartsMetric(s)) === 5 && Date.now() - s.lines().at(-1)!.atMs > 8500, 30_000);
  expect((await killWorker(s, 5)).delayMs).toBe(200);

  // Orders taken while the worker is down are drained once it is back.
  await waitFor("the worker serving restart count 6", async () => (await restartsMetric(s)) === 6);
  process.kill(s.childPid()!, "SIGKILL");
  const accepted = await buyAll(stack.redis, sale.id, Array.from({ length: 20 }, (_, i) => ({ userId: `u${i}`, qty: 1 })), 1);
  expect(accepted).toHaveLength(20);
  await waitFor("the drain after restart 7", async () => {
    const r = await stack.db.pool.query("SELECT count(DISTINCT order_id)::int AS n FROM orders WHERE sale_id = $1", [sale.id]);
    return r.rows[0].n === 20;
  });
  await waitFor("the worker serving restart count 7", async () => (await restartsMetric(s)) === 7);

  // make down: SIGTERM to the supervisor; the worker stops gracefully and nothing restarts it.
  const pid = s.childPid()!;
  s.proc.kill("SIGTERM");
  expect(await s.exited).toEqual({ code: 0, signal: null });
  expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  expect(s.childPid()).toBeUndefined();
  const tail = s.lines().slice(-2).map((l) => l.text);
  expect(tail).toEqual([`SIGTERM received; stopping pid ${pid}`, expect.stringMatching(new RegExp(`^pid ${pid} exited with code 0 after [\\d.]+ s; stopped as asked$`))]);
  // The worker's own lines after the supervisor forwarded the signal: its graceful shutdown.
  const log = s.logText();
  const afterStop = log.slice(log.indexOf("SIGTERM received; stopping"));
  const msgs = afterStop
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => (JSON.parse(l) as { msg: string }).msg);
  expect(msgs).toEqual(expect.arrayContaining(["shutting down", "stopped"]));
  expect(s.lines().filter((l) => STARTED.test(l.text))).toHaveLength(8);
  expect(s.lines().filter((l) => RESTART.test(l.text))).toHaveLength(7);
});

test("as shipped, the delay stops at 4 s however often the service dies, and a 10 s run starts it over", async () => {
  const s = await supervise("order-worker-shipped", undefined);
  const delays: number[] = [];
  for (let restarts = 0; restarts < 5; restarts++) delays.push((await killWorker(s, restarts)).delayMs);
  expect(delays).toEqual([500, 1000, 2000, 4000, 4000]);
  await waitFor("a healthy run", async () => (await restartsMetric(s)) === 5 && Date.now() - s.lines().at(-1)!.atMs > 10_500, 30_000);
  expect((await killWorker(s, 5)).delayMs).toBe(500);
  await waitFor("the worker serving restart count 6", async () => (await restartsMetric(s)) === 6);
  s.proc.kill("SIGTERM");
  expect(await s.exited).toEqual({ code: 0, signal: null });
});

test("SIGTERM while it waits to restart stops it at once; a clean exit of the service on its own is not restarted", async () => {
  const waiting = await supervise("order-worker-waiting", { minMs: 60_000, maxMs: 60_000, stableMs: 60_000 });
  await waitFor("the worker up", async () => (await restartsMetric(waiting)) === 0);
  process.kill(waiting.childPid()!, "SIGKILL");
  await waitFor("the restart announced", () => waiting.lines().some((l) => / restart 1 in 60\.0 s$/.test(l.text)));
  waiting.proc.kill("SIGTERM");
  expect(await waiting.exited).toEqual({ code: 0, signal: null });
  expect(waiting.lines().at(-1)!.text).toBe("SIGTERM received while waiting to restart; stopped");
  expect(waiting.lines().filter((l) => STARTED.test(l.text))).toHaveLength(1);

  const alone = await supervise("order-worker-alone", { minMs: 100, maxMs: 100, stableMs: 60_000 });
  await waitFor("the worker up", async () => (await restartsMetric(alone)) === 0);
  const pid = alone.childPid()!;
  process.kill(pid, "SIGTERM"); // someone stops the worker itself: it exits 0
  expect(await alone.exited).toEqual({ code: 0, signal: null });
  expect(alone.lines().at(-1)!.text).toMatch(new RegExp(`^pid ${pid} exited with code 0 after [\\d.]+ s, on its own; not restarting$`));
  expect(alone.lines().filter((l) => STARTED.test(l.text))).toHaveLength(1);
});
