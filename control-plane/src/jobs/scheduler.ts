/**
 * The control plane's scheduled jobs (node-cron), safe with several instances: each tick of a
 * job runs on one instance only (JobLock), and a failed run is logged, never thrown at cron.
 */
import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "@flash-sale/node-common";
import type { JobLock } from "./job-lock";

export interface Job {
  name: string;
  /** node-cron expression with a seconds field, e.g. "0 * * * * *" (every minute at :00). */
  schedule: string;
  /** Longest a run may hold the job before another instance may take the next tick. */
  leaseMs: number;
  run(): Promise<void>;
}

export type TickOutcome = "ran" | "failed" | "taken" | "busy";

export class JobScheduler {
  private readonly tasks: ScheduledTask[] = [];

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
    for (const job of this.jobs) {
      // The scheduled time, not the time the callback fires, names the tick on every instance.
      const task = cron.schedule(job.schedule, (ctx) => this.runTick(job, ctx.date.getTime()).then(() => undefined), {
        name: job.name,
        noOverlap: true,
      });
      this.tasks.push(task);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.tasks.map((t) => t.destroy()));
    this.tasks.length = 0;
  }

  /** Runs `job` for the tick scheduled at `tickMs` unless another instance has it. */
  async runTick(job: Job, tickMs: number): Promise<TickOutcome> {
    let claim;
    try {
      claim = await this.lock.claim(job.name, tickMs, job.leaseMs);
    } catch (err) {
      this.logger.warn({ err, job: job.name }, "job tick not claimed (Redis unreachable?)");
      return "failed";
    }
    if (claim.kind === "busy") this.logger.warn({ job: job.name, tickMs }, "job skipped: the previous run still holds it");
    if (claim.kind !== "claimed") return claim.kind;
    const started = Date.now();
    try {
      await job.run();
      this.logger.debug({ job: job.name, ms: Date.now() - started }, "job ran");
      return "ran";
    } catch (err) {
      this.logger.error({ err, job: job.name }, "job failed");
      return "failed";
    } finally {
      const released = await this.lock.release(job.name, claim.token).catch(() => false);
      if (!released) this.logger.warn({ job: job.name, ms: Date.now() - started }, "job outlived its lease");
    }
  }
}
