/**
 * Redis scripts the gateway runs (redis-scripts/*.lua), loaded once at init. EVALSHA first;
 * after a Redis restart or SCRIPT FLUSH the script is unknown (NOSCRIPT): EVAL it once.
 */
import { settings } from "../settings";
import { to_hex } from "resty.string";

export interface RedisScript {
  name: string;
  source: string;
  sha: string;
}

export function loadScript(name: string): RedisScript {
  const path = settings().scriptDir + "/" + name + ".lua";
  const [file, err] = io.open(path, "r");
  if (file === undefined) error("cannot read Redis script " + path + ": " + tostring(err), 0);
  const source = file.read("*a") as string;
  file.close();
  return { name, source, sha: to_hex(ngx.sha1_bin(source)) };
}

function isNoScript(err: string | undefined): boolean {
  return err !== undefined && string.sub(err, 1, 8) === "NOSCRIPT";
}

/**
 * Runs the script: EVALSHA, and EVAL once when the server does not know it (NOSCRIPT). After
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
