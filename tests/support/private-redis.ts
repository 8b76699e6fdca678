/**
 * A private redis-server for one test file, on its own port, with no persistence:
 * tests may flush it, stop it and start it again without touching the stack's Redis.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, waitForPort } from "./ports";

export interface PrivateRedisOptions {
  /** Keep data across stop()/resume() (AOF, fsync always), as a restarted production Redis would. */
  persistent?: boolean;
}

export class PrivateRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dataDir: string | undefined,
  ) {}

  static async start(opts: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const dataDir = opts.persistent ? mkdtempSync(path.join(tmpdir(), "fs-redis-")) : undefined;
    // A free port can be taken by another checkout's test between freePort() and the bind.
    for (let attempt = 1; ; attempt++) {
      const redis = new PrivateRedis(await freePort(), dataDir);
      try {
        await redis.resume();
        return redis;
      } catch (err) {
        await redis.stop();
        if (attempt === 5) throw err;
      }
    }
  }

  url(db = 0): string {
    return `redis://127.0.0.1:${this.port}/${db}`;
  }

  /** Starts the server again on the same port (after stop()); data survives only when persistent. */
  async resume(): Promise<void> {
    const persistence =
      this.dataDir !== undefined
        ? ["--dir", this.dataDir, "--appendonly", "yes", "--appendfsync", "always"]
        : ["--appendonly", "no"];
    const child = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", ...persistence], {
      stdio: "ignore",
    });
    this.child = child;
    await waitForPort(this.port);
    // What answers must be this child, not a server another test started on the same port.
    const info = execFileSync("redis-cli", ["-p", String(this.port), "INFO", "server"], { encoding: "utf8" });
    if (child.exitCode !== null || !info.includes(`process_id:${child.pid}\r`)) {
      throw new Error(`port ${this.port} is another process's Redis`);
    }
  }

  /** Kills the server (SIGKILL: no goodbye to clients). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }

  /** Stops the server for good and removes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.dataDir !== undefined) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
