/**
 * CPU time the gateway's nginx workers spent (from /proc/<pid>/schedstat, ns): a cost per
 * request that a shared, busy machine disturbs far less than requests per second, since time
 * spent waiting for a core is not counted.
 */
import { readFileSync } from "node:fs";
import type { Gateway } from "../tests/support/gateway";

/** Nanoseconds on a CPU, summed over the workers (a worker that exits drops out: read around one run). */
export function nginxWorkersCpuNs(gateway: Gateway): number {
  return gateway.workerPids().reduce((sum, pid) => sum + Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]), 0);
}
