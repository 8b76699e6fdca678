/**
 * Rotation of a gateway's logs by size, for as long as the gateway runs: `make up` (scripts/nginx.sh)
 * starts log-rotation-cli.js under scripts/supervise.js beside each gateway, `make down` stops it.
 * Every few seconds it rotates when access.log or error.log has reached log_rotate_size, with
 * scripts/rotate-logs.sh (`make logs-rotate`: rename, then USR1, no line lost), and deletes the
 * rotated files of each log beyond the newest log_rotate_keep. It stops by itself once no nginx
 * runs from its prefix, so a gateway stopped some other way leaves nothing behind.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import type { Knobs } from "./knobs";

const ROTATE_SCRIPT = path.resolve(__dirname, "../../scripts/rotate-logs.sh");

/** The logs nginx writes into <prefix>/logs; rotate-logs.sh renames them <name>.<UTC stamp>. */
export const ROTATED_LOGS = ["access.log", "error.log"];

export interface RotationPolicy {
  sizeBytes: number;
  keep: number;
  checkMs: number;
}

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** An nginx-style size (`512k`, `256m`, `1g`, or bytes) in bytes. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+)([kmg]?)$/i.exec(text.trim());
  if (match === null) return undefined;
  const bytes = Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!;
  return bytes > 0 ? bytes : undefined;
}

/** The knobs log_rotate_size, log_rotate_keep and log_rotate_check_seconds; a bad one throws. */
export function rotationPolicy(knobs: Knobs): RotationPolicy {
  const sizeBytes = parseSize(knobs.log_rotate_size ?? "");
  if (sizeBytes === undefined) throw new Error(`knob log_rotate_size must be a size such as 256m, got '${knobs.log_rotate_size}'`);
  const keep = Number(knobs.log_rotate_keep);
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`knob log_rotate_keep must be a whole number of at least 1, got '${knobs.log_rotate_keep}'`);
  const checkSeconds = Number(knobs.log_rotate_check_seconds);
  if (!(checkSeconds > 0)) throw new Error(`knob log_rotate_check_seconds must be a number of seconds above 0, got '${knobs.log_rotate_check_seconds}'`);
  return { sizeBytes, keep, checkMs: checkSeconds * 1000 };
}

/** Of the files in a logs folder, the rotated ones to delete: all but the newest `keep` of each log. */
export function rotatedToDelete(files: string[], keep: number): string[] {
  return ROTATED_LOGS.flatMap((log) =>
    files
      .filter((f) => f.startsWith(`${log}.`))
      // The UTC stamps sort as they were made.
      .sort()
      .reverse()
      .slice(keep),
  );
}

/** Whether the nginx master named by the prefix's pid file runs. */
export function gatewayRuns(prefix: string): boolean {
  const pidFile = path.join(prefix, "nginx.pid");
  if (!existsSync(pidFile)) return false;
  try {
    process.kill(Number(readFileSync(pidFile, "utf8").trim()), 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** One check: rotates when a log has reached the size, then prunes. Says what it did, if anything. */
export function rotateOnce(prefix: string, policy: RotationPolicy): string | undefined {
  const logs = path.join(prefix, "logs");
  const large = ROTATED_LOGS.filter((name) => sizeOf(path.join(logs, name)) >= policy.sizeBytes);
  let said: string | undefined;
  if (large.length > 0) {
    const rotated = spawnSync("bash", [ROTATE_SCRIPT], { env: { ...process.env, FS_NGINX_PREFIX: prefix }, encoding: "utf8" });
    said = rotated.status === 0
      ? `${large.join(" and ")} reached ${policy.sizeBytes} bytes: rotated`
      : `rotation failed (exit ${rotated.status}): ${(rotated.stderr ?? "").trim()}`;
  }
  const stale = rotatedToDelete(existsSync(logs) ? readdirSync(logs) : [], policy.keep);
  for (const name of stale) rmSync(path.join(logs, name), { force: true });
  if (stale.length > 0) said = `${said === undefined ? "" : `${said}; `}deleted ${stale.join(", ")}`;
  return said;
}

/** Checks every policy.checkMs until no gateway runs from the prefix. */
export async function watchLogs(prefix: string, policy: RotationPolicy, say: (line: string) => void): Promise<void> {
  while (gatewayRuns(prefix)) {
    const done = rotateOnce(prefix, policy);
    if (done !== undefined) say(done);
    await new Promise((r) => setTimeout(r, policy.checkMs));
  }
  say(`no gateway runs from ${prefix}: stopping`);
}
