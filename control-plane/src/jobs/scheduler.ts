/**
 * The control plane's scheduled jobs (node-cron), safe with several instances: each tick of a
 * job runs on one instance only (JobLock), and a failed run is logged, never thrown at cron.
 * A run holds a short lease, renewed every third of it while the run lasts: an instance that
 * dies mid-run frees its job within one lease.
 */
import { setTimeout as sleep } from "node:timers/promises";
import cron, { type Logger as CronLogger, type ScheduledTask } from "node-cron";
import type { Logger } from "@flash-sale/node-common";
import type { JobLock } from "./job-lock";

export interface Job {
  name: string;
  /** node-cron expression with a seconds field, e.g. "0 * * * * *" (every minute at :00). */
  schedule: string;
  /** How long a run holds the job past its last heartbeat (one every leaseMs / 3). */
  leaseMs: number;
  run(): Promise<void>;
}

/** What every job is given: a logger, and a clock that tests set (Date.now otherwise). */
export interface JobDeps {
  logger: Logger;
  now?: () => number;
}

/** The Job named `name` that runs `run` with deps' clock. */
export function defineJob(name: string, deps: JobDeps, schedule: string, leaseMs: number, run: (now: () => number) => Promise<void>): Job {
  const now = deps.now ?? Date.now;
  return { name, schedule, leaseMs, run: () => run(now) };
}

/**
 * Runs `each` for every sale in turn: one that fails is logged with `fields(sale)` and left to
 * the job's next run, the others go on.
 */
export async function forEachSale<S extends { id: string }>(
  sales: readonly S[],
  logger: Logger,
  failed: string,
  each: (sale: S) => Promise<void>,
  fields: (sale: S) => object = (s) => ({ saleId: s.id }),
): Promise<void> {
  for (const sale of sales) {
    try {
      await each(sale);
    } catch (err) {
      logger.warn({ err, ...fields(sale) }, failed);
    }
  }
}

/** `unclaimed`: Redis did not answer the claim (down, or stalled past the command timeout). */
export type TickOutcome = "ran" | "failed" | "taken" | "busy" | "unclaimed";

/** A claim Redis did not answer is asked again after at most this long (sooner after a timeout). */
export const CLAIM_RETRY_MS = 200;

/**
 * How long a job that goes over the sales one by one waits for one sale's row lock, then goes
 * on to the next and tries that one again on its next run: a transaction holds the row for
 * milliseconds, but a process frozen inside one holds it until Postgres ends its session.
 */
export const SALE_LOCK_WAIT_MS = 500;

export class JobScheduler {
  private readonly tasks: ScheduledTask[] = [];
  /** Each job's scheduled run in progress: when it started, and the ticks skipped meanwhile. */
  private readonly scheduledRuns = new Map<string, { startedAt: number; skipped: number }>();
  /** Runs in progress, which stop() waits for: once stopped, nothing runs a job any more. */
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly jobs: readonly Job[],
    private readonly lock: JobLock,
    private readonly logger: Logger,
  ) {
    for (const job of jobs) {
      if (!cron.validate(job.schedule)) throw new Error(`job ${job.name}: bad schedule "${job.schedule}"`);
    }
  }

  start(): void {
    this.stopped = false;
    for (const job of this.jobs) {
      // The scheduled time, not the time the callback fires, names the tick on every instance.
      const task = cron.schedule(job.schedule, (ctx) => this.track(this.runScheduled(job, ctx.date.getTime())), {
        name: job.name,
        noOverlap: true,
        logger: this.cronLogger(job),
      });
      this.tasks.push(task);
    }
  }

  private async track(run: Promise<void>): Promise<void> {
    this.inFlight.add(run);
    try {
      await run;
    } finally {
      this.inFlight.delete(run);
    }
  }

  /** A scheduled tick; a run that outlived its next ticks says at its end how many it skipped. */
  private async runScheduled(job: Job, tickMs: number): Promise<void> {
    const run = { startedAt: Date.now(), skipped: 0 };
    this.scheduledRuns.set(job.name, run);
    try {
      await this.runUntilAnswered(job, tickMs);
    } finally {
      this.scheduledRuns.delete(job.name);
      if (run.skipped > 0) this.logger.warn({ job: job.name, ms: Date.now() - run.startedAt, skipped: run.skipped }, "job's long run ended; its ticks meanwhile were skipped");
    }
  }

  /**
   * A claim that timed out in a Redis stall still runs when Redis goes on, takes its tick and
   * gives it up unrun (JobLock releases it). Asked again at once, under a later tick, the job runs
   * at the thaw rather than at its next tick: a pause saved during the stall is applied then.
   * Until Redis answers, ticks are skipped, and the outage is logged once.
   */
  private async runUntilAnswered(job: Job, tickMs: number): Promise<void> {
    let tick = tickMs;
    for (let attempt = 0; ; attempt++) {
      const asked = Date.now();
      const outcome = await this.runTick(job, tick, attempt > 0);
      if (outcome !== "unclaimed" || this.stopped) return;
      await sleep(Math.max(0, CLAIM_RETRY_MS - (Date.now() - asked)));
      tick = Math.max(tick + 1, Date.now());
    }
  }

  /**
   * node-cron's own messages go to this logger with the job's name, not to the console. A tick
   * skipped while the job's run goes on (a backend that stalls) is said once per run, not on
   * every tick: node-cron would print a line a second per job.
   */
  private cronLogger(job: Job): CronLogger {
    const fields = { job: job.name };
    return {
      debug: (message) => this.logger.debug(fields, `node-cron: ${String(message)}`),
      info: (message) => this.logger.info(fields, `node-cron: ${message}`),
      error: (message, err) => this.logger.error({ ...fields, err: err ?? message }, "node-cron failed"),
      warn: (message) => {
        const run = this.scheduledRuns.get(job.name);
        if (run === undefined || !message.includes("overlap")) return this.logger.warn(fields, `node-cron: ${message}`);
        run.skipped++;
        if (run.skipped === 1) this.logger.warn({ ...fields, runningMs: Date.now() - run.startedAt }, "job still running at its next tick: ticks are skipped until it ends");
      },
    };
  }

  /** Stops the ticks and waits for the runs in progress (a claim Redis does not answer is not asked again). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.tasks.map((t) => t.destroy()));
    this.tasks.length = 0;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Runs `job` for the tick scheduled at `tickMs` unless another instance has it. */
  async runTick(job: Job, tickMs: number, retrying = false): Promise<TickOutcome> {
    let claim;
    try {
      claim = await this.lock.claim(job.name, tickMs, job.leaseMs);
    } catch (err) {
      if (!retrying) this.logger.warn({ err, job: job.name }, "job tick not claimed (Redis unreachable?): asking again until it answers");
      return "unclaimed";
    }
    if (claim.kind === "busy") this.logger.warn({ job: job.name, tickMs }, "job skipped: the previous run still holds it");
    if (claim.kind !== "claimed") return claim.kind;
    const started = Date.now();
    const heartbeat = this.heartbeat(job, claim.token, started);
    try {
      await job.run();
      this.logger.debug({ job: job.name, ms: Date.now() - started }, "job ran");
      return "ran";
    } catch (err) {
      this.logger.error({ err, job: job.name }, "job failed");
      return "failed";
    } finally {
      const lostBefore = heartbeat.stop();
      const released = await this.lock.release(job.name, claim.token).catch(() => false);
      if (!released && !lostBefore) this.logger.error({ job: job.name, ms: Date.now() - started }, "job lost its lease");
    }
  }

  /** Renews the lease every leaseMs / 3; stop() says whether the lease was found lost meanwhile. */
  private heartbeat(job: Job, token: string, started: number): { stop: () => boolean } {
    let lost = false;
    let stopped = false;
    const timer = setInterval(() => {
      this.lock.renew(job.name, token, job.leaseMs).then(
        (held) => {
          if (held || stopped || lost) return;
          lost = true;
          clearInterval(timer);
          // Another instance may take a later tick while this run goes on.
          this.logger.error({ job: job.name, ms: Date.now() - started }, "job lost its lease");
        },
        (err: unknown) => this.logger.warn({ err, job: job.name }, "job lease not renewed (Redis unreachable?)"),
      );
    }, Math.max(1, Math.floor(job.leaseMs / 3)));
    return {
      stop: () => {
        stopped = true;
        clearInterval(timer);
        return lost;
      },
    };
  }
}
