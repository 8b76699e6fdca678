/**
 * The real control plane as a child process (`node control-plane/build/main.js`), for tests
 * that kill it: its admin API, its jobs on their real schedules, its pino lines as they come.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { adminCall, NO_GATEWAY_METRICS, TEST_ADMIN_TOKEN, type AdminAnswer } from "./control-plane";
import { freePort, waitForPort } from "./ports";
import { collectLogLines, REPO_ROOT, type LogLine, type WorkerExit } from "./stream-fixtures";

export interface ControlPlaneProcessSettings {
  redisUrl: string;
  databaseUrl: string;
  gatewayMetricsUrl?: string;
  /** Extra variables, e.g. FS_CONTROL_PLANE_FAULT. */
  env?: Record<string, string>;
  /** Where its admin API listens, when a test must name it beforehand (an OpenID redirect URL); a free port else. */
  port?: number;
}

export class ControlPlaneProcess {
  /** The process's pino lines, parsed. */
  readonly logs: LogLine[] = [];
  private errText = "";
  readonly exited: Promise<WorkerExit>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    collectLogLines(child, this.logs);
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.errText += chunk));
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** Starts it and resolves once its admin API listens (migrations have run by then). */
  static async start(s: ControlPlaneProcessSettings): Promise<ControlPlaneProcess> {
    const port = s.port ?? (await freePort());
    const child = spawn(process.execPath, [path.join(REPO_ROOT, "control-plane/build/main.js")], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        FS_REDIS_URL: s.redisUrl,
        FS_DATABASE_URL: s.databaseUrl,
        FS_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        FS_ADMIN_HOST: "127.0.0.1",
        FS_ADMIN_PORT: String(port),
        FS_GATEWAY_METRICS_URL: s.gatewayMetricsUrl ?? NO_GATEWAY_METRICS,
        FS_PAYMENT_WEBHOOK_SECRET: "",
        FS_LOG_LEVEL: "info",
        FS_CONTROL_PLANE_FAULT: "",
        ...s.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const cp = new ControlPlaneProcess(child, `http://127.0.0.1:${port}`);
    const listening = waitForPort(port, 30_000).then(() => true);
    const exited = cp.exited.then(() => false);
    if (!(await Promise.race([listening, exited]))) {
      listening.catch(() => undefined); // it times out later: nothing will listen
      throw new Error(`the control plane exited before listening: ${cp.stderr()}`);
    }
    return cp;
  }

  stderr(): string {
    return this.errText;
  }

  /** An admin API call; rejects when the connection fails (e.g. the process died mid-call). */
  admin(method: string, path: string, body?: unknown): Promise<AdminAnswer> {
    return adminCall(this.url, method, path, body);
  }

  /** SIGTERM (a graceful stop) and the exit. */
  stop(): Promise<WorkerExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    return this.exited;
  }
}
