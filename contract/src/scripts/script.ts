/**
 * A Redis script as every runtime sees it, declared once: its file under contract/redis-scripts,
 * its KEYS and ARGV by name in order, its reply codes by name, and the decoding of its reply
 * into a union the callers switch on. The gateway's runner (gateway-lua adapters/redis_scripts)
 * and the Node one (node-common redis-script) fill KEYS and ARGV from named values in this
 * order; a unit test holds each file's header to its declaration.
 */
export interface ScriptDeclaration<K extends string, A extends string, R> {
  /** "<aggregate>/<name>": contract/redis-scripts/<aggregate>/<name>.lua. */
  readonly file: string;
  /** KEYS[1 ..], by name. */
  readonly keys: readonly K[];
  /** Keys the caller may add after the named ones (the header's KEYS[n ..]), by one name. */
  readonly moreKeys?: string;
  /** ARGV[1 ..], by name. */
  readonly args: readonly A[];
  /** Values the caller may add after the named ones (the header's ARGV[n ..]), by one name. */
  readonly moreArgs?: string;
  /** The reply codes the header lists ({code, …} or code), by name; none for a script answering a plain value. */
  readonly codes: Readonly<Record<string, number>>;
  /** The reply as the union of the script's replies; undefined when it is none of them. */
  readonly decode: (this: void, reply: unknown) => R | undefined;
}

/** The named values of a script's KEYS or ARGV. */
export type Named<N extends string, V> = { readonly [P in N]: V };

export type ScriptKeys<D> = D extends ScriptDeclaration<infer K, string, unknown> ? Named<K, string> : never;
export type ScriptArgs<D> = D extends ScriptDeclaration<string, infer A, unknown> ? Named<A, string | number> : never;
export type ScriptReply<D> = D extends ScriptDeclaration<string, string, infer R> ? R : never;

/** Names the declaration's type parameters from its literal (keys and args as string literals). */
export function declareScript<K extends string, A extends string, R>(d: ScriptDeclaration<K, A, R>): ScriptDeclaration<K, A, R> {
  return d;
}

/**
 * KEYS then ARGV into `out` from index 0, in the declaration's order, then the extra keys and
 * values; answers the number of keys. The Node runner's; the gateway generates the same order
 * as straight-line Lua per declaration (adapters/redis_scripts.ts), faster on the hot path.
 */
export function fillScriptCall<K extends string, A extends string>(
  d: ScriptDeclaration<K, A, unknown>,
  keys: Named<K, string>,
  args: Named<A, string | number>,
  out: (string | number)[],
  moreKeys?: readonly string[],
  moreArgs?: readonly (string | number)[],
): number {
  let i = 0;
  for (const name of d.keys) out[i++] = keys[name];
  if (moreKeys !== undefined) for (const key of moreKeys) out[i++] = key;
  const numKeys = i;
  for (const name of d.args) out[i++] = args[name];
  if (moreArgs !== undefined) for (const value of moreArgs) out[i++] = value;
  return numKeys;
}

/** Names by code from codes by name, for a decoder on the hot path (one lookup, not a walk). */
export function namesByCode<N extends string>(codes: Readonly<Record<N, number>>): Readonly<Record<number, N>> {
  const names: Record<number, N> = {};
  for (const name in codes) names[codes[name]] = name;
  return names;
}

/** The name of a reply code in `codes`, or undefined when it has none. */
export function codeName<C extends Readonly<Record<string, number>>>(codes: C, code: number | undefined): (keyof C & string) | undefined {
  if (code === undefined) return undefined;
  for (const name in codes) if (codes[name] === code) return name;
  return undefined;
}

/** A reply's list, or undefined when it is not one. */
export function replyList(reply: unknown): unknown[] | undefined {
  return typeof reply === "object" && reply !== null ? (reply as unknown[]) : undefined;
}

/** The code of a coded reply: its first element, a number. */
export function replyCode(reply: unknown): number | undefined {
  const list = replyList(reply);
  const code = list === undefined ? undefined : list[0];
  return typeof code === "number" ? code : undefined;
}

/** The reply's element at `i` (0-based) when a number. */
export function replyNumber(list: unknown[], i: number): number | undefined {
  const v = list[i];
  return typeof v === "number" ? v : undefined;
}

/** The reply's element at `i` (0-based) when a string. */
export function replyString(list: unknown[], i: number): string | undefined {
  const v = list[i];
  return typeof v === "string" ? v : undefined;
}

/** The default of an exhaustive switch over a decoded reply: the compiler proves it unreachable. */
export function unhandledReply(reply: never): never {
  throw new Error("unhandled script reply " + tostringOf(reply));
}

function tostringOf(value: unknown): string {
  return typeof value === "object" && value !== null ? "(table)" : "" + (value as string);
}
