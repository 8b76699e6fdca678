/**
 * The gateway's runner of the declared Redis scripts (contract/src/scripts; the files under
 * redis-scripts/<aggregate>/), loaded once at init. Callers pass KEYS and ARGV by name; a fill
 * function generated from the declaration orders them into the one table a call sends. EVALSHA
 * first; after a Redis restart or SCRIPT FLUSH the script is unknown (NOSCRIPT): EVAL it once.
 */
import { settings } from "../settings";
import { expandIncludes } from "@flash-sale/contract/script_includes";
import type { Named, ScriptDeclaration } from "@flash-sale/contract/scripts/script";
import { to_hex } from "resty.string";

/** KEYS then ARGV into `out` from its first slot, then the extra values; answers the number of keys. */
type Fill = (
  this: void,
  keys: unknown,
  args: unknown,
  out: (string | number)[],
  moreKeys: readonly string[] | undefined,
  moreArgs: readonly (string | number)[] | undefined,
) => number;

export interface RedisScript<K extends string, A extends string, R> {
  declaration: ScriptDeclaration<K, A, R>;
  source: string;
  sha: string;
  fill: Fill;
}

/** The loaded form of a declaration. */
export type LoadedScript<D> = D extends ScriptDeclaration<infer K, infer A, infer R> ? RedisScript<K, A, R> : never;

/** Values after the named keys and args, for a script that declares them (moreKeys, moreArgs). */
export interface MoreValues {
  keys: readonly string[];
  args: readonly (string | number)[];
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

export function loadScript<K extends string, A extends string, R>(declaration: ScriptDeclaration<K, A, R>): RedisScript<K, A, R> {
  const path = settings().scriptDir + "/" + declaration.file + ".lua";
  const source = readFile(path);
  if (source === undefined) error("cannot read Redis script " + path, 0);
  const expanded = expandIncludes(source, readInclude);
  if ("error" in expanded) error(path + ": " + expanded.error, 0);
  return { declaration, source: expanded.text, sha: to_hex(ngx.sha1_bin(expanded.text)), fill: compileFill(declaration) };
}

/**
 * The declaration's order as straight-line Lua (out[1] = k["stock"] …), compiled once: on the
 * purchase path a loop over the names cost about 300 ns a call more than the hand-written fill
 * (LuaJIT cannot specialise a lookup by a key that varies); this costs the same.
 */
function compileFill(d: ScriptDeclaration<string, string, unknown>): Fill {
  const src: string[] = ["local k, a, out, mk, ma = ...\n"];
  let i = 0;
  for (const name of d.keys) src.push("out[" + ++i + "] = k[" + string.format("%q", name) + "]\n");
  src.push("local i = " + i + "\nif mk then for j = 1, #mk do i = i + 1; out[i] = mk[j] end end\nlocal numKeys = i\n");
  let j = 0;
  for (const name of d.args) src.push("out[i + " + ++j + "] = a[" + string.format("%q", name) + "]\n");
  src.push("i = i + " + j + "\nif ma then for j = 1, #ma do i = i + 1; out[i] = ma[j] end end\nreturn numKeys\n");
  const [chunk, err] = loadstring(src.join(""), "=fill " + d.file);
  if (chunk === undefined) error("cannot compile the fill of " + d.file + ": " + tostring(err), 0);
  return chunk as Fill;
}

/**
 * KEYS and ARGV in a table of the call's own: the EVAL after a NOSCRIPT goes out after a
 * yield, when other calls of this worker may have filled theirs.
 */
function keysAndArgs<K extends string, A extends string, R>(
  s: RedisScript<K, A, R>,
  keys: Named<K, string>,
  args: Named<A, string | number>,
  more: MoreValues | undefined,
): LuaMultiReturn<[(string | number)[], number]> {
  const out: (string | number)[] = [];
  const numKeys = s.fill(keys, args, out, more?.keys, more?.args);
  return $multi(out, numKeys);
}

function isNoScript(err: string | undefined): boolean {
  return err !== undefined && string.sub(err, 1, 8) === "NOSCRIPT";
}

function scriptThenWait(
  red: RestyRedis,
  s: RedisScript<string, string, unknown>,
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
export function runScriptThenWait<K extends string, A extends string, R>(
  red: RestyRedis,
  s: RedisScript<K, A, R>,
  keys: Named<K, string>,
  args: Named<A, string | number>,
  more: MoreValues | undefined,
  replicas: number,
  timeoutMs: number,
  asking: boolean,
): LuaMultiReturn<[unknown, string | undefined, number | undefined]> {
  const [values, numKeys] = keysAndArgs(s, keys, args, more);
  const [res, err, acked] = scriptThenWait(red, s, false, numKeys, values, replicas, timeoutMs, asking);
  if (!isNoScript(err)) return $multi(res, err, acked);
  return scriptThenWait(red, s, true, numKeys, values, replicas, timeoutMs, asking);
}

/**
 * Runs the script: EVALSHA, and EVAL once when the server does not know it (NOSCRIPT). The reply
 * is undefined on a transport error (the script may have run), false on an error reply. After
 * an ASK redirect (`asking`), the EVAL must say ASKING again: the flag lasts one command.
 */
export function runScript<K extends string, A extends string, R>(
  red: RestyRedis,
  s: RedisScript<K, A, R>,
  keys: Named<K, string>,
  args: Named<A, string | number>,
  asking: boolean,
  more?: MoreValues,
): LuaMultiReturn<[unknown, string | undefined]> {
  const [values, numKeys] = keysAndArgs(s, keys, args, more);
  const [res, err] = red.evalsha(s.sha, numKeys, ...values);
  if (!isNoScript(err)) return $multi(res, err);
  if (asking) {
    const [askOk, askErr] = red.asking();
    if (askOk === undefined) return $multi(undefined, askErr);
  }
  return red.eval(s.source, numKeys, ...values);
}
