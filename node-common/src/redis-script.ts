/**
 * A Redis script file, run as BullMQ's ScriptLoader runs its commands: EVALSHA, and EVAL once
 * when the server does not know it (a restart, a failover, SCRIPT FLUSH). Keys go through
 * KEYS, so a script whose keys share one hash tag runs on Redis Cluster too.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { expandIncludes } from "@flash-sale/contract/script_includes";

/** The includes every runtime's scripts share (gateway-lua/redis-scripts/includes), from src/ and build/ alike. */
export const SCRIPT_INCLUDES_DIR = path.resolve(__dirname, "../../gateway-lua/redis-scripts/includes");

/** What running a script needs of a client: ioredis' Redis and Cluster both have it. */
export interface ScriptClient {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
}

export class RedisScript {
  readonly sha: string;

  private constructor(
    /** The file's name without .lua, for error messages. */
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** Reads the script (and its includes) at load time, so a missing file stops the service at start. */
  static load(file: string): RedisScript {
    const expanded = expandIncludes(readFileSync(file, "utf8"), (name) => {
      const include = path.join(SCRIPT_INCLUDES_DIR, `${name}.lua`);
      return existsSync(include) ? readFileSync(include, "utf8") : undefined;
    });
    if ("error" in expanded) throw new Error(`${file}: ${expanded.error}`);
    return new RedisScript(path.basename(file, ".lua"), expanded.text);
  }

  async run(redis: ScriptClient, keys: readonly string[], args: readonly (string | number)[] = []): Promise<unknown> {
    const keysAndArgs = [...keys, ...args];
    try {
      return await redis.evalsha(this.sha, keys.length, ...keysAndArgs);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return redis.eval(this.source, keys.length, ...keysAndArgs);
    }
  }
}
