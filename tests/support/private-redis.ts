/**
 * A private redis-server for one test file, on its own port, with no persistence unless asked:
 * tests may flush it, stop it and start it again without touching the stack's Redis.
 */
import { spawn, type ChildProcess } from "node:child_process";
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
    const redis = new PrivateRedis(await freePort(), mkdtempSync(path.join(tmpdir(), "fs-redis-")), opts);
    await redis.resume();
    return redis;
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
    this.child = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dataDir, "--save", "", ...persistence, ...replica], {
      stdio: "ignore",
    });
    await waitForPort(this.port);
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
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
