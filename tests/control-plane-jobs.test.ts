/**
 * The control plane's scheduled jobs against a real Redis (private) and Postgres (a fresh
 * database): two instances run each tick once (with node-cron too), a lease is renewed and
 * released by its owner only, an instance killed mid-run frees its job within one lease, a claim
 * that timed out in a Redis stall holds nothing once Redis runs it, a run longer than its lease
 * keeps it; a sale whose Redis state is lost is rebuilt, never reset; reconciliation finds a unit and an
 * order removed behind its back, in the sale's stats and in the logs, and no drift in a sale held for a rebuild.
 */
import { spawn } from "node:child_process";
import type { Logger } from "@flash-sale/node-common";
import { createRedis, type Redis } from "@flash-sale/node-common";
import { jobKeys, saleKeys } from "@flash-sale/contract/keys";
import { JobLock } from "../control-plane/src/jobs/job-lock";
import { keepSalesBuiltJob } from "../control-plane/src/jobs/keep-sales-built";
import { reconcileSalesJob } from "../control-plane/src/jobs/reconcile-sales";
import { JOB_LEASE_MS } from "../control-plane/src/jobs/sale-jobs";
import { JobScheduler, type Job } from "../control-plane/src/jobs/scheduler";
import { SalePublisher } from "../control-plane/src/projection/publisher";
import { SaleRepository } from "../control-plane/src/store/sale-repository";
import { SaleBuilder } from "../control-plane/src/projection/sale-builder";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { buyAll } from "./support/purchase-script";
import { REPO_ROOT, startWorker, waitFor } from "./support/stream-fixtures";

jest.setTimeout(60_000);

const extraClients: Redis[] = [];

/** A logger that keeps what it is told, for the drift messages. */
function recordingLogger(): Logger & { lines: { level: string; obj: unknown; msg: string }[] } {
  const lines: { level: string; obj: unknown; msg: string }[] = [];
  const at = (level: string) => (obj: unknown, msg?: string) => void lines.push({ level, obj, msg: msg ?? String(obj) });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } as unknown as Logger & {
    lines: typeof lines;
  };
}

/** A control-plane instance's scheduler: its own Redis connection and instance name. */
function instance(name: string, jobs: Job[], logger: Logger = recordingLogger()): JobScheduler {
  const client = createRedis(stack.redisServer.url(), name);
  extraClients.push(client);
  return new JobScheduler(jobs, new JobLock(client, name), logger);
}

const stack = useStack(new TestStack({ name: "control_plane_jobs", gateway: false }), async () => {
  stack.onStop(() => {
    for (const c of extraClients) c.disconnect();
  });
});

describe("two control-plane instances", () => {
  it("run each tick of a job once, whichever claims it first", async () => {
    const runs: number[] = [];
    let tick = 0;
    const job: Job = { name: "count-ticks", schedule: "* * * * * *", leaseMs: 10_000, run: async () => void runs.push(tick) };
    const a = instance("instance-a", [job]);
    const b = instance("instance-b", [job]);
    const outcomes: string[] = [];
    for (tick = 1; tick <= 50; tick++) {
      const both = await Promise.all([a.runTick(job, tick * 1000), b.runTick(job, tick * 1000)]);
      outcomes.push(...both);
    }
    expect(runs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(outcomes.filter((o) => o === "ran")).toHaveLength(50);
    expect(outcomes.filter((o) => o === "taken")).toHaveLength(50);
  });

  it("with node-cron firing every second on both: each tick ran once", async () => {
    const runs: { who: string; second: number }[] = [];
    const jobOf = (who: string): Job => ({
      name: "cron-ticks",
      schedule: "* * * * * *",
      leaseMs: 10_000,
      run: async () => {
        // Started within a few ms of its scheduled second: that second names the tick.
        runs.push({ who, second: Math.floor(Date.now() / 1000) });
        await new Promise((r) => setTimeout(r, 50)); // a run that takes a while
      },
    });
    const a = instance("cron-a", [jobOf("a")]);
    const b = instance("cron-b", [jobOf("b")]);
    a.start();
    b.start();
    await new Promise((r) => setTimeout(r, 4200));
    await Promise.all([a.stop(), b.stop()]);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(runs.map((r) => r.second)).size).toBe(runs.length);
    expect(Number(await stack.redis.get(jobKeys("cron-ticks").lastTick))).toBe(runs[runs.length - 1]!.second * 1000);
  });

  it("skips a tick while an earlier one still runs, and only the owner releases the lease", async () => {
    let finish: () => void = () => undefined;
    const slow: Job = {
      name: "slow",
      schedule: "* * * * * *",
      leaseMs: 10_000,
      run: () => new Promise<void>((r) => (finish = r)),
    };
    const a = instance("slow-a", [slow]);
    const b = instance("slow-b", [slow]);
    const first = a.runTick(slow, 1000);
    await waitFor("the slow run to start", async () => (await stack.redis.exists(jobKeys("slow").lease)) === 1);
    expect(await b.runTick(slow, 2000)).toBe("busy");
    finish();
    expect(await first).toBe("ran");
    expect(await stack.redis.exists(jobKeys("slow").lease)).toBe(0);

    // A lease that expired and was taken by another instance is not released by its old owner.
    const lockA = new JobLock(stack.redis, "a");
    const lockB = new JobLock(stack.redis, "b");
    const claimA = await lockA.claim("expiring", 1000, 50);
    await new Promise((r) => setTimeout(r, 120));
    const claimB = await lockB.claim("expiring", 2000, 10_000);
    expect([claimA.kind, claimB.kind]).toEqual(["claimed", "claimed"]);
    if (claimA.kind !== "claimed" || claimB.kind !== "claimed") return;
    expect(await lockA.renew("expiring", claimA.token, 60_000)).toBe(false);
    expect(await lockA.release("expiring", claimA.token)).toBe(false);
    expect(await stack.redis.get(jobKeys("expiring").lease)).toBe(claimB.token);
    expect(await stack.redis.pttl(jobKeys("expiring").lease)).toBeLessThanOrEqual(10_000);
    expect(await lockB.renew("expiring", claimB.token, 60_000)).toBe(true);
    expect(await stack.redis.pttl(jobKeys("expiring").lease)).toBeGreaterThan(10_000);
    expect(await lockB.release("expiring", claimB.token)).toBe(true);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A control plane (the built scheduler) whose run of `JOB` never ends: it prints "running". */
const HANGING_INSTANCE = `
const { createRedis } = require("@flash-sale/node-common");
const { JobLock } = require("./control-plane/build/jobs/job-lock.js");
const { JobScheduler } = require("./control-plane/build/jobs/scheduler.js");
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const job = { name: process.env.JOB, schedule: "* * * * * *", leaseMs: Number(process.env.LEASE_MS),
  run: () => { console.log("running"); return new Promise(() => {}); } };
new JobScheduler([job], new JobLock(createRedis(process.env.REDIS_URL, "doomed"), "doomed"), quiet).runTick(job, 1000);
`;

describe("job leases (JOB_LEASE_MS, renewed by a heartbeat)", () => {
  it("an instance killed mid-run holds its job about one lease, then another instance runs it", async () => {
    const name = "killed-mid-run";
    const lease = jobKeys(name).lease;
    const doomed = spawn(process.execPath, ["-e", HANGING_INSTANCE], {
      cwd: REPO_ROOT,
      env: { ...process.env, REDIS_URL: stack.redisServer.url(), JOB: name, LEASE_MS: String(JOB_LEASE_MS) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise((r) => doomed.once("exit", r));
    let out = "";
    doomed.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    try {
      await waitFor("the doomed run to start", () => out.includes("running"));
      // Its heartbeat renews the lease: more time left than the first reading less the time since.
      const t0 = Date.now();
      const first = await stack.redis.pttl(lease);
      expect(first).toBeGreaterThan(0);
      await waitFor("a heartbeat", async () => (await stack.redis.pttl(lease)) + (Date.now() - t0) > first + 200, 2 * JOB_LEASE_MS);
    } finally {
      doomed.kill("SIGKILL");
      await exited;
    }
    const killedAt = Date.now();
    const left = await stack.redis.pttl(lease);
    expect(left).toBeGreaterThan(0); // a dead process releases nothing

    let ranAt = 0;
    const job: Job = { name, schedule: "* * * * * *", leaseMs: JOB_LEASE_MS, run: async () => void (ranAt = Date.now()) };
    const b = instance("survivor", [job]);
    const outcomes: string[] = [];
    for (let tick = 2; ranAt === 0; tick++) {
      if (Date.now() - killedAt > 30_000) throw new Error(`the job never ran again: ${outcomes.join(" ")}`);
      outcomes.push(await b.runTick(job, tick * 1000));
      if (ranAt === 0) await sleep(50);
    }
    expect(new Set(outcomes.slice(0, -1))).toEqual(new Set(["busy"]));
    expect(outcomes[outcomes.length - 1]).toBe("ran");
    // Free once the dead instance's lease ran out: within one lease of its death, not 30 s.
    expect(ranAt - killedAt).toBeGreaterThanOrEqual(left - 200);
    expect(ranAt - killedAt).toBeLessThan(left + 2000);
    expect(ranAt - killedAt).toBeLessThan(7_000); // not the 30 s of the old lease
  });

  it("a run longer than its lease keeps it on a live instance: no other instance runs the job meanwhile", async () => {
    const name = "long-run";
    let aRuns = 0;
    let aRunning = false;
    const bRuns: string[] = [];
    const jobA: Job = {
      name,
      schedule: "* * * * * *",
      leaseMs: JOB_LEASE_MS,
      run: async () => {
        aRuns++;
        aRunning = true;
        await sleep(2.5 * JOB_LEASE_MS);
        aRunning = false;
      },
    };
    const jobB: Job = { ...jobA, run: async () => void bRuns.push(aRunning ? "during a's run" : "after") };
    const loggerA = recordingLogger();
    const a = instance("long-a", [jobA], loggerA);
    const b = instance("long-b", [jobB]);
    let finished = false;
    const first = a.runTick(jobA, 1000).finally(() => (finished = true));
    await waitFor("the long run to start", () => aRunning);
    const outcomes: string[] = [];
    for (let tick = 2; !finished; tick++) {
      outcomes.push(await b.runTick(jobB, tick * 1000));
      await sleep(100);
    }
    expect(await first).toBe("ran");
    expect(aRuns).toBe(1);
    // b asked all along and was refused; at most its last ask, once a released, ran.
    expect(outcomes.length).toBeGreaterThanOrEqual(10);
    expect(new Set(outcomes.slice(0, -1))).toEqual(new Set(["busy"]));
    expect(bRuns).not.toContain("during a's run");
    expect(loggerA.lines.filter((l) => l.level === "error" || l.level === "warn")).toEqual([]);
    // Released at the end: the next tick runs at once.
    expect(await b.runTick(jobB, 1_000_000)).toBe("ran");
    expect(bRuns[bRuns.length - 1]).toBe("after");
  });

  it("a claim that timed out while Redis stalled holds nothing once Redis runs it: the next tick runs at once", async () => {
    const name = "stalled-claim";
    const client = createRedis(stack.redisServer.url(), "stalled-claim", undefined, 300);
    extraClients.push(client);
    await client.ping();
    const job: Job = { name, schedule: "* * * * * *", leaseMs: JOB_LEASE_MS, run: async () => undefined };
    const scheduler = new JobScheduler([job], new JobLock(client, "stalled"), recordingLogger());
    expect(await scheduler.runTick(job, 500)).toBe("ran"); // Redis knows the scripts: EVALSHA runs at the thaw
    stack.redisServer.freeze();
    let outcome: string;
    try {
      outcome = await scheduler.runTick(job, 1000);
    } finally {
      stack.redisServer.thaw();
    }
    expect(outcome).toBe("unclaimed");
    // Redis ran the late claim at the thaw: it took the tick, and its lease went with it.
    await waitFor("the late claim to run", async () => (await stack.redis.get(jobKeys(name).lastTick)) === "1000");
    expect(await scheduler.runTick(job, 2000)).toBe("ran");
  });

  it("a scheduled job whose claim timed out in a stall runs at the thaw, not at its next tick, and says so once", async () => {
    const name = "claim-at-thaw";
    const client = createRedis(stack.redisServer.url(), "claim-at-thaw", undefined, 300);
    extraClients.push(client);
    await client.ping();
    const runs: number[] = [];
    const logger = recordingLogger();
    // Every 5 s: the old scheduler, its claim timed out, waited up to 5 s for the next tick.
    const job: Job = { name, schedule: "*/5 * * * * *", leaseMs: JOB_LEASE_MS, run: async () => void runs.push(Date.now()) };
    const scheduler = new JobScheduler([job], new JobLock(client, "thaw"), logger);
    scheduler.start();
    try {
      await waitFor("a first run", async () => runs.length === 1, 7000);
      stack.redisServer.freeze();
      let thawedAt: number;
      try {
        // The next tick's claim is sent, times out (300 ms), and is asked again while Redis stalls.
        const nextTick = Math.ceil((Date.now() + 1) / 5000) * 5000;
        await sleep(nextTick + 1200 - Date.now());
      } finally {
        stack.redisServer.thaw();
        thawedAt = Date.now();
      }
      await waitFor("the run at the thaw", async () => runs.length === 2, 7000);
      expect(runs[1]! - thawedAt).toBeLessThan(2000);
      expect(logger.lines.filter((l) => String(l.msg).startsWith("job tick not claimed"))).toHaveLength(1);
    } finally {
      await scheduler.stop();
    }
  });

  it("stop() waits for a run in progress, so nothing runs a job once it returns; start() after it runs the job again", async () => {
    const events: string[] = [];
    const job: Job = {
      name: "stop-waits",
      schedule: "* * * * * *",
      leaseMs: JOB_LEASE_MS,
      run: async () => {
        events.push("run started");
        await sleep(600);
        events.push("run ended");
      },
    };
    const scheduler = instance("stop-waits", [job]);
    scheduler.start();
    await waitFor("a run in progress", async () => events.includes("run started"), 5000);
    await scheduler.stop();
    events.push("stopped");
    expect(events).toEqual(["run started", "run ended", "stopped"]);
    scheduler.start();
    try {
      await waitFor("a run after the restart", async () => events.filter((e) => e === "run started").length === 2, 5000);
    } finally {
      await scheduler.stop();
    }
  });

  it("a run whose lease was taken away is logged as having lost it", async () => {
    const name = "lost-lease";
    let finish: () => void = () => undefined;
    const logger = recordingLogger();
    const job: Job = { name, schedule: "* * * * * *", leaseMs: 300, run: () => new Promise<void>((r) => (finish = r)) };
    const run = instance("loser", [job], logger).runTick(job, 1000);
    await waitFor("the run to start", async () => (await stack.redis.exists(jobKeys(name).lease)) === 1);
    await stack.redis.set(jobKeys(name).lease, "someone-else", "PX", 60_000); // as if it had expired and been claimed
    const lost = () => logger.lines.filter((l) => l.msg === "job lost its lease");
    try {
      await waitFor("the heartbeat to notice", () => lost().length === 1, 5000);
    } finally {
      finish();
    }
    expect(await run).toBe("ran");
    expect(lost()).toHaveLength(1); // once, not again at release
    expect(lost()[0]).toMatchObject({ level: "error", obj: { job: name } });
    expect(await stack.redis.get(jobKeys(name).lease)).toBe("someone-else");
  });
});

describe("node-cron's messages", () => {
  it("a run outliving its next ticks is said once, and its end counts the ticks skipped; nothing on the console", async () => {
    const name = "stalled-run";
    let finish: () => void = () => undefined;
    let runs = 0;
    const job: Job = { name, schedule: "* * * * * *", leaseMs: JOB_LEASE_MS, run: () => (runs++, new Promise<void>((r) => (finish = r))) };
    const logger = recordingLogger();
    const consoleWarn = jest.spyOn(console, "warn");
    const scheduler = instance("stalled", [job], logger);
    try {
      scheduler.start();
      await waitFor("the run to start", () => runs === 1, 5000);
      const stillRunning = () => logger.lines.filter((l) => l.msg === "job still running at its next tick: ticks are skipped until it ends");
      await waitFor("the next tick to find it running", () => stillRunning().length === 1, 5000);
      await sleep(3000);
      finish();
      const ended = () => logger.lines.filter((l) => l.msg === "job's long run ended; its ticks meanwhile were skipped");
      await waitFor("the run's end", () => ended().length === 1, 5000);
      expect(stillRunning()).toHaveLength(1);
      expect(stillRunning()[0]).toMatchObject({ level: "warn", obj: { job: name } });
      expect(ended()[0]).toMatchObject({ level: "warn", obj: { job: name } });
      expect((ended()[0]!.obj as { skipped: number }).skipped).toBeGreaterThanOrEqual(3);
      expect(runs).toBe(1);
      expect(consoleWarn.mock.calls.filter((c) => String(c[0]).includes("NODE-CRON"))).toEqual([]);
    } finally {
      finish();
      await scheduler.stop();
      consoleWarn.mockRestore();
    }
  });
});

describe("keep-sales-built", () => {
  async function runKeepBuilt(): Promise<void> {
    const repository = new SaleRepository(stack.db.pool);
    const logger = recordingLogger();
    const publisher = new SalePublisher(stack.redis, repository, new SaleBuilder(stack.redis, repository, logger));
    await keepSalesBuiltJob({ redis: stack.redis, repository, publisher, logger }, "* * * * * *", 10_000).run();
  }

  it("rebuilds a sale whose units-left key is gone from the orders Redis still has, with a new epoch", async () => {
    const sale = await stack.controlPlane.createSale({ id: "lost-stock", stock: 40 });
    const bought = await buyAll(stack.redis, sale.id, [{ userId: "a", qty: 1 }, { userId: "b", qty: 1 }], 1);
    expect(bought).toHaveLength(2);
    const k = saleKeys(sale.id);
    const fenceBefore = await stack.redis.hget(k.meta, "fence");
    await stack.redis.del(k.stock); // Redis lost it
    await runKeepBuilt();
    expect(await stack.redis.get(k.stock)).toBe("38");
    expect(await stack.redis.get(k.sold)).toBe("2");
    expect(await stack.redis.hgetall(k.buyers)).toEqual({ a: "1", b: "1" });
    const fenceAfter = await stack.redis.hget(k.meta, "fence");
    expect(fenceAfter).not.toBe(fenceBefore);
    // The next order's id is of the new epoch and does not reuse a number.
    const next = await buyAll(stack.redis, sale.id, [{ userId: "c", qty: 1 }], 1);
    expect(next[0]!.orderId).toBe(`${sale.id}.${fenceAfter!.split(":")[1]}.3`);
    await runKeepBuilt(); // whole again: nothing changes
    expect(await stack.redis.get(k.stock)).toBe("37");
    expect(await stack.redis.hget(k.meta, "fence")).toBe(fenceAfter);
  });

  it("holds a sale whose fence is gone, and never reloads the full stock of one that sold", async () => {
    const sale = await stack.controlPlane.createSale({ id: "lost-fence", stock: 10 });
    await buyAll(stack.redis, sale.id, [{ userId: "a", qty: 1 }], 1);
    const k = saleKeys(sale.id);
    await stack.redis.hdel(k.meta, "fence");
    // Held: the purchase script sells nothing.
    expect(await buyAll(stack.redis, sale.id, [{ userId: "z", qty: 1 }], 1)).toEqual([]);
    await runKeepBuilt();
    expect(await stack.redis.get(k.stock)).toBe("9");
    expect(await buyAll(stack.redis, sale.id, [{ userId: "a", qty: 1 }], 1)).toEqual([]); // still limit 1
    expect(await buyAll(stack.redis, sale.id, [{ userId: "z", qty: 1 }], 1)).toHaveLength(1);
  });
});

describe("reconcile-sales", () => {
  it("finds nothing wrong after a drained sale, then a unit and an order removed behind its back", async () => {
    const sale = await stack.controlPlane.createSale({ id: "audited", stock: 20, perUserLimit: 1 });
    const accepted = await buyAll(
      stack.redis,
      sale.id,
      Array.from({ length: 30 }, (_, i) => ({ userId: `u${i}`, qty: 1 })),
      1,
    );
    expect(accepted).toHaveLength(20);
    const worker = startWorker({ redisUrl: stack.redisServer.url(), databaseUrl: stack.db.url, name: "jobs-worker", batchSize: 100 });
    try {
      await waitFor("the drain", async () => {
        const r = await stack.db.pool.query("SELECT count(*)::int AS n FROM orders WHERE sale_id = $1", [sale.id]);
        return r.rows[0].n === 20;
      });
    } finally {
      expect(await worker.stop()).toEqual({ code: 0, signal: null });
    }

    const logger = recordingLogger();
    const job = reconcileSalesJob({ redis: stack.redis, repository: new SaleRepository(stack.db.pool), logger }, "0 * * * * *", 10_000);
    const stats = async () => (await stack.controlPlane.admin("GET", `/admin/api/sales/${sale.id}`)).body.stats.reconciliation;

    await job.run();
    expect(await stats()).toMatchObject({
      total: 20,
      unitsLeft: 0,
      unitsSold: 20,
      unitDrift: 0,
      ordersAccepted: 20,
      ordersPersisted: 20,
      ordersInFlight: 0,
      orderDrift: 0,
    });
    const warningsOf = () => logger.lines.filter((l) => l.level === "warn" && (l.obj as { saleId?: string }).saleId === sale.id);
    expect(warningsOf()).toEqual([]);

    // Someone takes a unit out of the sold count, and an order out of Postgres.
    await stack.redis.decr(saleKeys(sale.id).sold);
    await stack.db.pool.query("DELETE FROM orders WHERE order_id = $1", [accepted[0]!.orderId]);
    await job.run();
    expect(await stats()).toMatchObject({ unitsLeft: 0, unitsSold: 19, unitDrift: 1, takenDrift: -1, ordersPersisted: 19, orderDrift: 1 });
    expect(warningsOf()).toEqual([
      {
        level: "warn",
        msg: "sale drift: Redis and Postgres disagree",
        obj: {
          saleId: sale.id,
          problems: ["unit_drift", "taken_drift", "order_drift"],
          reconciliation: expect.objectContaining({ unitDrift: 1, orderDrift: 1 }),
        },
      },
    ]);
  });

  it("counts no drift for a sale not started whose stock the preload has yet to load, but does once it started", async () => {
    const now = Date.now();
    const sale = await stack.controlPlane.createSale({
      id: "not-loaded-yet",
      stock: 8,
      startsAt: new Date(now + 3_600_000).toISOString(),
      endsAt: new Date(now + 7_200_000).toISOString(),
    });
    await stack.redis.del(saleKeys(sale.id).stock);
    const repository = new SaleRepository(stack.db.pool);
    const reconcileAt = (ms: number) => reconcileSalesJob({ redis: stack.redis, repository, logger: recordingLogger(), now: () => ms }, "0 * * * * *", 10_000).run();
    const stats = async () => (await stack.controlPlane.admin("GET", `/admin/api/sales/${sale.id}`)).body.stats.reconciliation;
    await reconcileAt(now);
    expect(await stats()).toMatchObject({ unitsLeft: null, unitDrift: 0 });
    await reconcileAt(now + 3_600_000 + 1000); // started, and still no stock: 8 units unaccounted for
    expect(await stats()).toMatchObject({ unitsLeft: null, unitDrift: 8 });
  });

  it("raises no drift from a sale held for a rebuild, says it is held, and keeps its last result", async () => {
    const sale = await stack.controlPlane.createSale({ id: "held-for-rebuild", stock: 6 });
    const logger = recordingLogger();
    const job = reconcileSalesJob({ redis: stack.redis, repository: new SaleRepository(stack.db.pool), logger }, "0 * * * * *", 10_000);
    const stats = async () => (await stack.controlPlane.admin("GET", `/admin/api/sales/${sale.id}`)).body.stats.reconciliation;
    await job.run();
    const before = await stats();
    expect(before).toMatchObject({ unitsLeft: 6, unitDrift: 0 });

    // Redis loses the sale's state (an emptied instance, a replica that missed it): held until keep-sales-built rebuilds it.
    await stack.redis.del(...Object.values(saleKeys(sale.id)));
    await job.run();
    const linesOf = (level: string) => logger.lines.filter((l) => l.level === level && (l.obj as { saleId?: string }).saleId === sale.id);
    expect(linesOf("warn")).toEqual([]);
    expect(linesOf("info")).toEqual([
      { level: "info", msg: "sale held for a rebuild: not reconciled, its last result stands", obj: { saleId: sale.id, held: "state_missing" } },
    ]);
    expect(await stats()).toEqual(before);
  });

  it("judges orders still in flight to the worker: none is missing", async () => {
    const sale = await stack.controlPlane.createSale({ id: "in-flight", stock: 5 });
    await buyAll(stack.redis, sale.id, [{ userId: "x", qty: 1 }], 1); // no worker runs: the order waits in the stream
    await reconcileSalesJob({ redis: stack.redis, repository: new SaleRepository(stack.db.pool), logger: recordingLogger() }, "0 * * * * *", 10_000).run();
    expect((await stack.controlPlane.admin("GET", `/admin/api/sales/${sale.id}`)).body.stats.reconciliation).toMatchObject({
      unitDrift: 0,
      ordersAccepted: 1,
      ordersPersisted: 0,
      ordersInFlight: 1,
      orderDrift: 0,
    });
  });
});
