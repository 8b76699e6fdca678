/** A file of distinct shoppers' tokens for bench/wrk/purchase.lua, one per line. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { signToken } from "../tests/support/tokens";

export function writeShopperTokens(dir: string, prefix: string, count: number): string {
  const file = path.join(dir, `${prefix}.tokens`);
  const lines: string[] = [];
  // Same-width user ids give same-length tokens, which the wrk script slices by offset.
  for (let i = 0; i < count; i++) lines.push(signToken(`${prefix}-${String(i).padStart(9, "0")}`, { expiresInSec: 3600 }));
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}
