/** Reads knobs.conf (`name = value` lines, `#` comments) and applies FS_NGINX_<NAME> overrides. */
import { readFileSync } from "node:fs";
import path from "node:path";

/** nginx-conf/knobs.conf, also read by the control plane (default_admit_per_second). */
export const KNOBS_FILE = path.resolve(__dirname, "../knobs.conf");

export type Knobs = Record<string, string>;

export function parseKnobs(text: string): Knobs {
  const knobs: Knobs = {};
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`knobs.conf line ${i + 1}: expected 'name = value', got '${line}'`);
    knobs[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  });
  return knobs;
}

export function knobsWithOverrides(knobs: Knobs, env: NodeJS.ProcessEnv): Knobs {
  const result: Knobs = { ...knobs };
  for (const name of Object.keys(knobs)) {
    const override = env[`FS_NGINX_${name.toUpperCase()}`];
    if (override !== undefined && override !== "") result[name] = override;
  }
  return result;
}

export function readKnobs(file: string = KNOBS_FILE, env: NodeJS.ProcessEnv = process.env): Knobs {
  return knobsWithOverrides(parseKnobs(readFileSync(file, "utf8")), env);
}
