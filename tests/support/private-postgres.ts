/**
 * A private Postgres cluster for one test file, which the test may stop and start at will
 * (the stack's Postgres is shared and must stay up). initdb and pg_ctl run as the `postgres`
 * user (Postgres refuses root) in a temp dir; trust auth on 127.0.0.1 and on its own socket
 * dir; durability off (fsync=off), since the data dies with the test.
 */
import { execFile } from "node:child_process";
import { appendFileSync, chownSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports";

const run = promisify(execFile);
const BIN = "/usr/lib/postgresql/15/bin";

async function asPostgres(command: string, args: string[]): Promise<void> {
  try {
    await run("runuser", ["-u", "postgres", "--", path.join(BIN, command), ...args]);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${command} failed: ${e.stderr || e.message}`);
  }
}

export class PrivatePostgres {
  private running = false;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  private get dataDir(): string {
    return path.join(this.dir, "data");
  }

  static async start(): Promise<PrivatePostgres> {
    if (process.getuid?.() !== 0) throw new Error("PrivatePostgres needs root: it runs initdb as `postgres` through runuser");
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    const owner = [Number(stdout.trim()), Number(gid.trim())] as const;

    const dir = mkdtempSync(path.join(os.tmpdir(), "fs-pg-"));
    mkdirSync(path.join(dir, "socket"));
    chownSync(dir, ...owner);
    chownSync(path.join(dir, "socket"), ...owner);

    const pg = new PrivatePostgres(await freePort(), dir);
    try {
      await asPostgres("initdb", ["-D", pg.dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]);
      appendFileSync(
        path.join(pg.dataDir, "postgresql.conf"),
        [
          `port = ${pg.port}`,
          "listen_addresses = '127.0.0.1'",
          `unix_socket_directories = '${path.join(dir, "socket")}'`,
          "fsync = off",
          "synchronous_commit = off",
          "full_page_writes = off",
          "max_connections = 30",
          "",
        ].join("\n"),
      );
      await pg.start();
    } catch (err) {
      await pg.destroy();
      throw err;
    }
    return pg;
  }

  url(database = "postgres"): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the server (again); resolves once it accepts connections. */
  async start(): Promise<void> {
    await asPostgres("pg_ctl", ["-D", this.dataDir, "-l", path.join(this.dir, "server.log"), "-w", "-t", "30", "start"]);
    this.running = true;
  }

  /** Stops the server, closing every session (fast shutdown). Data survives. */
  async stop(): Promise<void> {
    await asPostgres("pg_ctl", ["-D", this.dataDir, "-m", "fast", "-w", "stop"]);
    this.running = false;
  }

  /** Stops the server if it runs and removes its files. */
  async destroy(): Promise<void> {
    if (this.running) await asPostgres("pg_ctl", ["-D", this.dataDir, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
    this.running = false;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
