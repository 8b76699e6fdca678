/**
 * Redis scripts the gateway runs (redis-scripts/*.lua), loaded once at init. EVALSHA first;
 * after a Redis restart or SCRIPT FLUSH the script is unknown (NOSCRIPT): EVAL it once.
 */
import { settings } from "../settings";
import { expandIncludes } from "@flash-sale/contract/script_includes";
import { to_hex } from "resty.string";

export interface RedisScript {
  name: string;
  source: string;
  sha: string;
}

function readFile(path: string): string | undefined {
  const [file] = io.open(path, "r");
  if (file === undefined) return undefined;
  const text = file.read("*a") as string;
  file.close();
  return text;
}

function readInclude(this: void, name: string): string | undefined {
  return readFile(settings().scriptDir + "/includes/" + name + ".lua");
}

export function loadScript(name: string): RedisScript {
  const path = settings().scriptDir + "/" + name + ".lua";
  const source = readFile(path);
  if (source === undefined) error("cannot read Redis script " + path, 0);
  const expanded = expandIncludes(source, readInclude);
  if ("error" in expanded) error(path + ": " + expanded.error, 0);
  return { name, source: expanded.text, sha: to_hex(ngx.sha1_bin(expanded.text)) };
}

function isNoScript(err: string | undefined): boolean {
  return err !== undefined && string.sub(err, 1, 8) === "NOSCRIPT";
}

function scriptThenWait(
  red: RestyRedis,
  s: RedisScript,
  bySource: boolean,
  numKeys: number,
  keysAndArgs: (string | number)[],
  replicas: number,
  timeoutMs: number,
  asking: boolean,
): LuaMultiReturn<[unknown, string | undefined, number | undefined]> {
  // After an ASK redirect the script must follow ASKING in the same pipeline (the flag lasts one command).
  red.init_pipeline(asking ? 3 : 2);
  if (asking) red.asking();
  if (bySource) red.eval(s.source, numKeys, ...keysAndArgs);
  else red.evalsha(s.sha, numKeys, ...keysAndArgs);
  red.wait(replicas, timeoutMs);
  const [replies, err] = red.commit_pipeline();
  if (replies === undefined) return $multi(undefined, err, undefined);
  const first = asking ? 1 : 0;
  const res = replies[first];
  const acked = replies[first + 1];
  // An error reply in a pipeline is {false, message}; answered as runScript does: false, message.
  if (typeof res === "object" && (res as unknown[])[0] === false) return $multi(false, tostring((res as unknown[])[1]), undefined);
  return $multi(res, undefined, typeof acked === "number" ? acked : undefined);
}

/**
 * The script and `WAIT replicas timeoutMs` in one pipeline, one round trip: the script's reply
 * (undefined on a transport error, false on an error reply, as runScript), its error, and how
 * many replicas acknowledged this connection's writes (undefined when WAIT failed).
 * NOSCRIPT: both again, with EVAL.
 */
export function runScriptThenWait(
  red: RestyRedis,
  s: RedisScript,
  numKeys: number,
  keysAndArgs: (string | number)[],
  replicas: number,
  timeoutMs: number,
  asking = false,
): LuaMultiReturn<[unknown, string | undefined, number | undefined]> {
  const [res, err, acked] = scriptThenWait(red, s, false, numKeys, keysAndArgs, replicas, timeoutMs, asking);
  if (!isNoScript(err)) return $multi(res, err, acked);
  return scriptThenWait(red, s, true, numKeys, keysAndArgs, replicas, timeoutMs, asking);
}

/**
 * Runs the script: EVALSHA, and EVAL once when the server does not know it (NOSCRIPT). The reply
 * is undefined on a transport error (the script may have run), false on an error reply. After
 * an ASK redirect (`asking`), the EVAL must say ASKING again: the flag lasts one command.
 */
export function runScript(red: RestyRedis, s: RedisScript, numKeys: number, keysAndArgs: (string | number)[], asking = false): LuaMultiReturn<[unknown, string | undefined]> {
  const [res, err] = red.evalsha(s.sha, numKeys, ...keysAndArgs);
  if (!isNoScript(err)) return $multi(res, err);
  if (asking) {
    const [askOk, askErr] = red.asking();
    if (askOk === undefined) return $multi(undefined, askErr);
  }
  return red.eval(s.source, numKeys, ...keysAndArgs);
}
