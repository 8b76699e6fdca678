/**
 * A real nginx running the compiled gateway Lua, for one test file: its own prefix in a
 * temp dir, its own port, its own Redis (FS_REDIS_URL, or a cluster's nodes). Started from the same template and
 * knobs as the stack, with overrides where a test needs them.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { renderInto } from "../../nginx-conf/src/render";
import { parseKnobs, knobsWithOverrides } from "../../nginx-conf/src/knobs";
import { freePort, waitForPort } from "./ports";
import { TEST_JWT_SECRET } from "./tokens";

const REPO = path.resolve(__dirname, "../..");

/** Limits wide enough that one test client on loopback is not the per-IP limiter's subject. */
export const LOAD_TEST_KNOBS: Record<string, string> = {
  ip_rate: "1000000r/s",
  ip_burst: "1000000",
  ip_connections: "60000",
  ip_read_rate: "1000000r/s",
  ip_read_burst: "1000000",
  worker_processes: "2",
};

export interface GatewayOptions {
  redisUrl: string;
  /** FS_REDIS_CLUSTER_NODES: route to this Redis Cluster (redisUrl is then unused). */
  clusterNodes?: string;
  knobs?: Record<string, string>;
  jwtSecret?: string;
  benchListen?: boolean;
  /** The compiled gateway Lua to run (default this checkout's gateway-lua/build/lua): bench/gateway-ab.ts runs an older build beside it. */
  luaDir?: string;
}

export class Gateway {
  private constructor(
    readonly prefix: string,
    readonly port: number,
    readonly benchPort: number | undefined,
    /** The internal Prometheus listener (knob metrics_listen). */
    readonly metricsPort: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async start(opts: GatewayOptions): Promise<Gateway> {
    // A free port can be taken by another checkout's test before nginx binds it: try again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await Gateway.startOnce(opts);
      } catch (err) {
        if (attempt === 5 || !String(err).includes("Address already in use")) throw err;
      }
    }
  }

  private static async startOnce(opts: GatewayOptions): Promise<Gateway> {
    const prefix = mkdtempSync(path.join(tmpdir(), "fs-gateway-"));
    // On USR1 (log rotation) each worker reopens the logs itself, as nginx's `user` when the
    // master runs as root: it must reach them (mkdtemp makes the folder 0700).
    chmodSync(prefix, 0o755);
    const port = await freePort();
    const benchPort = opts.benchListen ? await freePort() : undefined;
    const metricsPort = await freePort();
    const knobs = knobsWithOverrides(
      {
        ...parseKnobs(readFileSync(path.join(REPO, "nginx-conf/knobs.conf"), "utf8")),
        metrics_listen: `127.0.0.1:${metricsPort}`,
        ...opts.knobs,
      },
      {},
    );
    renderInto({
      prefix,
      listen: `127.0.0.1:${port}`,
      benchListen: benchPort !== undefined ? `127.0.0.1:${benchPort}` : undefined,
      knobs,
      luaDir: opts.luaDir,
    });
    const env = {
      ...process.env,
      FS_REDIS_URL: opts.redisUrl,
      FS_REDIS_CLUSTER_NODES: opts.clusterNodes ?? "",
      FS_JWT_SECRET: opts.jwtSecret ?? TEST_JWT_SECRET,
    };
    const gateway = new Gateway(prefix, port, benchPort, metricsPort, env);
    gateway.nginx([]);
    await waitForPort(port);
    // Let every worker's first config sync run.
    await new Promise((r) => setTimeout(r, 300));
    return gateway;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private nginx(args: string[]): void {
    const result = spawnSync("nginx", ["-p", this.prefix, "-c", path.join(this.prefix, "nginx.conf"), ...args], {
      env: this.env,
      encoding: "utf8",
    });
    if (result.status !== 0) throw new Error(`nginx ${args.join(" ")} failed: ${result.stderr}`);
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}/metrics`;
  }

  masterPid(): number {
    return Number(readFileSync(path.join(this.prefix, "nginx.pid"), "utf8").trim());
  }

  /** The master's worker processes, from /proc, in pid order. */
  workerPids(): number[] {
    const master = this.masterPid();
    return readFileSync(`/proc/${master}/task/${master}/children`, "utf8").trim().split(/\s+/).filter((s) => s !== "").map(Number).sort((a, b) => a - b);
  }

  /** `nginx -s reload` (SIGHUP to the master), with this gateway's environment. */
  reload(): void {
    this.nginx(["-s", "reload"]);
  }

  /** The JSON access log's entries written so far (nginx flushes its buffer every second). */
  accessLog(): Record<string, unknown>[] {
    const file = path.join(this.prefix, "logs/access.log");
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  errorLog(): string {
    const file = path.join(this.prefix, "logs/error.log");
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  }

  /** Lines at level [error] or worse written to the error log. */
  errorLines(): string[] {
    return this.errorLog()
      .split("\n")
      .filter((l) => /\[(error|crit|alert|emerg)\]/.test(l));
  }

  async stop(): Promise<void> {
    const pidFile = path.join(this.prefix, "nginx.pid");
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      try {
        process.kill(pid, "SIGQUIT");
      } catch {
        // already gone
      }
      for (let i = 0; i < 100 && existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    }
    rmSync(this.prefix, { recursive: true, force: true });
  }
}

/** Waits until the gateway's workers have applied a config (GET /api/sales/{id} answers 200). */
export async function waitForSale(gateway: Gateway, saleId: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Several calls so that every worker (each has its own cache) is likely to answer once.
    const statuses = await Promise.all(
      Array.from({ length: 6 }, () => fetch(`${gateway.url}/api/sales/${saleId}`).then((r) => r.status)),
    );
    // Requests may all reach one worker; the others sync within a period (250 ms) of it.
    if (statuses.every((s) => s === 200)) return new Promise((r) => setTimeout(r, 300));
    if (Date.now() > deadline) throw new Error(`sale ${saleId} not visible on the gateway after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits one full config-sync period so every worker has seen the latest publish. */
export function afterConfigSync(): Promise<void> {
  return new Promise((r) => setTimeout(r, 600));
}

/**
 * Runs scripts/nginx.sh (make up, make reload) against a test gateway, with these knobs and its
 * metrics listener. Not spawnSync: the event loop must go on, or the keep-alive sockets a reload
 * closes would look alive to the next request.
 */
export function runNginxScript(gateway: Gateway, knobs: Record<string, string>): Promise<{ status: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, FS_NGINX_PREFIX: gateway.prefix, FS_NGINX_LISTEN: `127.0.0.1:${gateway.port}` };
  for (const [name, value] of Object.entries({ ...knobs, metrics_listen: `127.0.0.1:${gateway.metricsPort}` })) env[`FS_NGINX_${name.toUpperCase()}`] = value;
  return new Promise((resolve) => {
    const child = spawn("bash", [path.join(REPO, "scripts/nginx.sh")], { env });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("close", (status) => resolve({ status, output }));
  });
}
