/**
 * The Node services' one runner of a declared Redis script (contract/src/scripts), run as
 * BullMQ's ScriptLoader runs its commands: EVALSHA, and EVAL once when the server does not
 * know it (a restart, a failover, SCRIPT FLUSH). Keys go through KEYS, so a script whose keys
 * share one hash tag runs on Redis Cluster too.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { expandIncludes } from "@flash-sale/contract/script_includes";
import { fillScriptCall, type Named, type ScriptDeclaration } from "@flash-sale/contract/scripts/script";

/** contract/redis-scripts, from src/ and build/ alike. */
export const SCRIPTS_DIR = path.resolve(__dirname, "../../contract/redis-scripts");

/** What running a script needs of a client: ioredis' Redis and Cluster both have it. */
export interface ScriptClient {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
}

/** Values after the named keys and args, for a script that declares them (moreKeys, moreArgs). */
export interface MoreValues {
  keys?: readonly string[];
  args?: readonly (string | number)[];
}

export class RedisScript<K extends string, A extends string, R> {
  readonly sha: string;

  private constructor(
    readonly declaration: ScriptDeclaration<K, A, R>,
    readonly source: string,
  ) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /**
   * Reads the declared script (and its includes) at load time, so a missing file stops the
   * service at start; `dir` is another scripts folder, for tests.
   */
  static load<K extends string, A extends string, R>(d: ScriptDeclaration<K, A, R>, dir: string = SCRIPTS_DIR): RedisScript<K, A, R> {
    const file = path.join(dir, `${d.file}.lua`);
    const expanded = expandIncludes(readFileSync(file, "utf8"), (name) => {
      const include = path.join(dir, "includes", `${name}.lua`);
      return existsSync(include) ? readFileSync(include, "utf8") : undefined;
    });
    if ("error" in expanded) throw new Error(`${file}: ${expanded.error}`);
    return new RedisScript(d, expanded.text);
  }

  /** The reply decoded; a reply that is none of the script's throws, as Redis' errors do. */
  async run(redis: ScriptClient, keys: Named<K, string>, args: Named<A, string | number>, more: MoreValues = {}): Promise<R> {
    const keysAndArgs: (string | number)[] = [];
    const numKeys = fillScriptCall(this.declaration, keys, args, keysAndArgs, more.keys, more.args);
    let reply: unknown;
    try {
      reply = await redis.evalsha(this.sha, numKeys, ...keysAndArgs);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      reply = await redis.eval(this.source, numKeys, ...keysAndArgs);
    }
    const decoded = this.declaration.decode(reply);
    if (decoded === undefined) throw new Error(`${this.declaration.file}.lua: unexpected reply ${JSON.stringify(reply)}`);
    return decoded;
  }
}
