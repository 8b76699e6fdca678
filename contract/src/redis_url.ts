/** Parses FS_REDIS_URL: `redis://[[user]:password@]host[:port][/db]`. */
import { decimalValue, lastIndexOfCode } from "./text";

export interface RedisAddress {
  host: string;
  port: number;
  password?: string;
  db: number;
}

function parseWhole(s: string, max: number): number | undefined {
  const n = decimalValue(s, 5);
  return n !== undefined && n <= max ? n : undefined;
}

/** Returns the address, or a message saying what is wrong with the URL. */
export function parseRedisUrl(url: string): RedisAddress | string {
  const scheme = "redis://";
  if (url.substring(0, scheme.length) !== scheme) return "FS_REDIS_URL must start with redis://";
  let rest = url.substring(scheme.length);
  let password: string | undefined;
  const at = lastIndexOfCode(rest, 64) /* "@" */;
  if (at !== -1) {
    const userinfo = rest.substring(0, at);
    const colon = userinfo.indexOf(":");
    password = colon === -1 ? userinfo : userinfo.substring(colon + 1);
    rest = rest.substring(at + 1);
  }
  let db = 0;
  const slash = rest.indexOf("/");
  if (slash !== -1) {
    const dbText = rest.substring(slash + 1);
    rest = rest.substring(0, slash);
    if (dbText.length > 0) {
      const parsed = parseWhole(dbText, 1000);
      if (parsed === undefined) return "FS_REDIS_URL has a bad database number";
      db = parsed;
    }
  }
  let port = 6379;
  const colon = lastIndexOfCode(rest, 58) /* ":" */;
  if (colon !== -1) {
    const parsed = parseWhole(rest.substring(colon + 1), 65535);
    if (parsed === undefined || parsed === 0) return "FS_REDIS_URL has a bad port";
    port = parsed;
    rest = rest.substring(0, colon);
  }
  if (rest.length === 0) return "FS_REDIS_URL has no host";
  return { host: rest, port, password: password !== undefined && password.length > 0 ? password : undefined, db };
}
