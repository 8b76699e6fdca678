/**
 * Prometheus metrics of a Node service (prom-client): a registry with the process and Node
 * runtime metrics and its supervisor's restart count, labelled with the service's name, and a plain HTTP listener for services
 * that have no HTTP server of their own.
 */
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export { Counter, Gauge, Histogram, Registry };

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  new Counter({
    name: "fs_process_restarts_total",
    help: "Times the supervisor (scripts/supervise.js) restarted this service after it died, as it told this process (FS_RESTART_COUNT).",
    registers: [registry],
  }).inc(restartCount());
  return registry;
}

/** A counter on `registry`, by `labelNames`. */
export function counter<L extends string = never>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** A gauge on `registry`, by `labelNames`. */
export function gauge<L extends string = never>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

/** FS_RESTART_COUNT, set by scripts/supervise.js; 0 when the service runs without it. */
function restartCount(): number {
  const n = Number(process.env.FS_RESTART_COUNT ?? 0);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

export interface MetricsListener {
  server: Server;
  /** The port it listens on (the one asked for, or the one the system gave for 0). */
  port: number;
}

/** Serves GET /metrics on host:port (port 0: any free port) with the text scrape() makes. */
export function serveMetrics(scrape: () => Promise<string>, contentType: string, port: number, host: string): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    scrape().then(
      (text) => res.writeHead(200, { "Content-Type": contentType }).end(text),
      (err: unknown) => res.writeHead(500, { "Content-Type": "text/plain" }).end(`cannot collect metrics: ${String(err)}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      resolve({ server, port: typeof address === "object" && address !== null ? address.port : port });
    });
  });
}
