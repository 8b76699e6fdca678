/**
 * What Redis scripts share, written once (after BullMQ's `includes/`): a script line
 * `-- @include <name>` stands for redis-scripts/includes/<name>.lua, pasted in when the script
 * is loaded, by the gateway (adapters/redis_scripts.ts) and by the Node services
 * (node-common's RedisScript) alike, so both send Redis the same text and the same SHA.
 */
const DIRECTIVE = "-- @include ";

/** Include names: lowercase words and dashes, no path. */
function isIncludeName(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || c === 45)) return false;
  }
  return true;
}

/**
 * The source with each include line replaced by the include's text (`read` answers it, or
 * undefined when there is none); or the reason it cannot be, as a string starting "include".
 */
export function expandIncludes(source: string, read: (this: void, name: string) => string | undefined): { text: string } | { error: string } {
  if (source.indexOf(DIRECTIVE) === -1) return { text: source };
  const out: string[] = [];
  for (const line of source.split("\n")) {
    if (line.startsWith(DIRECTIVE)) {
      const name = line.substring(DIRECTIVE.length).trim();
      if (!isIncludeName(name)) return { error: "include: bad name '" + name + "'" };
      const text = read(name);
      if (text === undefined) return { error: "include: no includes/" + name + ".lua" };
      out.push(text.endsWith("\n") ? text.substring(0, text.length - 1) : text);
    } else {
      out.push(line);
    }
  }
  return { text: out.join("\n") };
}
