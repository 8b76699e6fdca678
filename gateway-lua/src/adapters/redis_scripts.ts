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

export function isNoScript(err: string | undefined): boolean {
  return err !== undefined && string.sub(err, 1, 8) === "NOSCRIPT";
}
