/** The real order worker (built JS) as a child process, pointed at a test's Redis and database. */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const MAIN = path.resolve(__dirname, "../../order-worker/build/main.js");

export class OrderWorkerProcess {
  output = "";

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on("data", (c: Buffer) => (this.output += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (this.output += c.toString()));
  }

  static start(redisUrl: string, databaseUrl: string, env: Record<string, string> = {}): OrderWorkerProcess {
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        FS_REDIS_URL: redisUrl,
        FS_DATABASE_URL: databaseUrl,
        FS_WORKER_BLOCK_MS: "200",
        FS_WORKER_CLAIM_IDLE_MS: "1000",
        FS_LOG_LEVEL: "info",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new OrderWorkerProcess(child);
  }

  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      this.child.once("exit", (code) => resolve(code));
      this.child.kill("SIGTERM");
    });
  }
}
