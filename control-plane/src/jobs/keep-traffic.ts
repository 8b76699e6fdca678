/**
 * Job: keeps each live sale's traffic, one row per second (store/traffic-series.ts), from one
 * read of every gateway's metrics. One instance runs each tick; a row already written for the
 * second is left alone, so two instances never write a second twice. When no gateway answers
 * the second is not written: readers see the gap, not zeros.
 */
import type { Pool, Redis } from "@flash-sale/node-common";
import { readFleetSamples } from "../projection/traffic";
import { recordSecond, salesKeptAt } from "../store/traffic-series";
import { defineJob, type Job, type JobDeps } from "./scheduler";

export interface KeepTrafficDeps extends JobDeps {
  pool: Pool;
  redis: Redis;
  gatewayMetricsUrl: string;
}

export function keepTrafficJob(deps: KeepTrafficDeps, schedule: string, leaseMs: number): Job {
  return defineJob("keep-traffic", deps, schedule, leaseMs, async (now) => {
    const secondMs = Math.floor(now() / 1000) * 1000;
    const sales = await salesKeptAt(deps.pool, secondMs);
    if (sales.length === 0) return;
    const fleet = await readFleetSamples(deps.redis, deps.gatewayMetricsUrl);
    if (fleet === null) {
      deps.logger.warn({ sales: sales.length }, "traffic not kept this second: no gateway answered");
      return;
    }
    await recordSecond(deps.pool, secondMs, sales, fleet);
  });
}
