/**
 * Redis time per call of one script, from SLOWLOG: with `slowlog-log-slower-than 0` Redis logs
 * every command with the microseconds it ran (its execution only, not I/O or queueing), so a
 * script's entries say how long it held Redis. The log is drained (GET and RESET in one MULTI)
 * often enough that its bounded length never drops an entry.
 */
import type { Redis, RedisScript } from "@flash-sale/node-common";

/** Entries kept between drains: far more than a drain interval's commands. */
const LOG_LENGTH = 100_000;

export interface ScriptCall {
  micros: number;
  /** How many ARGV the call had. */
  argvCount: number;
  /** The script's ARGV named `arg` at the start (e.g. how many orders it was given). */
  arg: string | undefined;
}

export interface ScriptTimes {
  calls: number;
  maxMicros: number;
  p50Micros: number;
  p99Micros: number;
  /** The largest value of that ARGV of any call. */
  maxArg: number;
}

/** SLOWLOG keeps a command's first 31 arguments, then "... (N more arguments)". */
const KEPT_ARGS = 31;

export class ScriptSlowlog {
  /** The script's calls seen so far (drain() adds to them). */
  readonly calls: ScriptCall[] = [];

  /** keyCount, argIndex: of the script's declaration; argIndex 1-based, within the first arguments SLOWLOG keeps. */
  private constructor(
    private readonly redis: Redis,
    private readonly script: RedisScript<string, string, unknown>,
    private readonly keyCount: number,
    private readonly argIndex: number,
  ) {}

  /** `arg`: the declared ARGV to record per call, of a script called with its declared KEYS only (no moreKeys). */
  static async start<A extends string>(redis: Redis, script: RedisScript<string, A, unknown>, arg: A): Promise<ScriptSlowlog> {
    await redis.config("SET", "slowlog-max-len", String(LOG_LENGTH));
    await redis.config("SET", "slowlog-log-slower-than", "0");
    await redis.slowlog("RESET");
    const { keys, args } = script.declaration;
    return new ScriptSlowlog(redis, script, keys.length, args.indexOf(arg) + 1);
  }

  /** Moves the log's entries of this script into the sample. */
  async drain(): Promise<void> {
    const replies = await this.redis.multi().slowlog("GET", -1).slowlog("RESET").exec();
    const [err, entries] = replies?.[0] ?? [new Error("SLOWLOG GET: no reply"), undefined];
    if (err) throw err;
    for (const entry of entries as [number, number, number, string[]][]) {
      const [, , micros, args] = entry;
      if (!this.isScript(args)) continue;
      const more = /^\.\.\. \((\d+) more arguments\)$/.exec(args[args.length - 1] ?? "");
      const argCount = more ? KEPT_ARGS + Number(more[1]) : args.length;
      this.calls.push({ micros, argvCount: argCount - 3 - this.keyCount, arg: args[3 + this.keyCount + this.argIndex - 1] });
    }
  }

  async stop(): Promise<ScriptTimes> {
    await this.drain();
    await this.redis.config("SET", "slowlog-log-slower-than", "10000");
    const sorted = this.calls.map((c) => c.micros).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return {
      calls: sorted.length,
      maxMicros: sorted[sorted.length - 1] ?? 0,
      p50Micros: at(0.5),
      p99Micros: at(0.99),
      maxArg: Math.max(0, ...this.calls.map((c) => Number(c.arg ?? 0))),
    };
  }

  /** EVALSHA of its digest, or the EVAL its runner falls back to after NOSCRIPT (source logged truncated). */
  private isScript(args: string[]): boolean {
    const [command, body] = [args[0]?.toLowerCase(), args[1] ?? ""];
    if (command === "evalsha") return body === this.script.sha;
    return command === "eval" && body.length > 0 && this.script.source.startsWith(body.slice(0, 64));
  }
}
