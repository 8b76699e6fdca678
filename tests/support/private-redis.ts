/**
 * A private redis-server for one test file, on its own port, with no persistence unless asked:
 * tests may flush it, stop it and start it again without touching the stack's Redis.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, waitForPort } from "./ports";

export type AppendFsync = "always" | "everysec";

export interface PrivateRedisOptions {
  /** Keep data across stop()/resume() (AOF), as a restarted production Redis would. */
  persistent?: boolean;
  /** With `persistent`: when the AOF is fsynced (default `always`). */
  appendfsync?: AppendFsync;
  /** A replica of the Redis on this port. */
  replicaOf?: number;
}

export class PrivateRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    /** Its working directory: the AOF when persistent, the RDB a replica loads at a full sync. */
    private readonly dataDir: string,
    private readonly opts: PrivateRedisOptions,
  ) {}

  static async start(opts: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const dataDir = mkdtempSync(path.join(tmpdir(), "fs-redis-"));
    // A free port can be taken by another checkout's test between freePort() and the bind.
    for (let attempt = 1; ; attempt++) {
      const redis = new PrivateRedis(await freePort(), dataDir, opts);
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

  /** The AOF's directory (Redis 7: a manifest and its base and incremental files); persistent only. */
  get aofDir(): string {
    if (!this.opts.persistent) throw new Error("this Redis keeps no AOF");
    return path.join(this.dataDir, "appendonlydir");
  }

  /** Starts the server again on the same port (after stop()); data survives only when persistent. */
  async resume(): Promise<void> {
    const persistence = this.opts.persistent ? ["--appendonly", "yes", "--appendfsync", this.opts.appendfsync ?? "always"] : ["--appendonly", "no"];
    const replica = this.opts.replicaOf !== undefined ? ["--replicaof", "127.0.0.1", String(this.opts.replicaOf)] : [];
    const child = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dataDir, "--save", "", ...persistence, ...replica], {
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

  /** Freezes the server (SIGSTOP), as a stalled host does: connects still complete, nothing is answered. */
  freeze(): void {
    if (this.child?.kill("SIGSTOP") !== true) throw new Error("no Redis process to freeze");
  }

  /** Lets a frozen server go on (SIGCONT): it reads and runs what its clients sent meanwhile. */
  thaw(): void {
    if (this.child?.kill("SIGCONT") !== true) throw new Error("no Redis process to thaw");
  }

  /** Stops the server for good and removes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
