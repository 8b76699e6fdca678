/** A file of distinct shoppers' tokens for bench/wrk/purchase.lua, one per line. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { signToken } from "../tests/support/tokens";

/** A bench shopper's user id: same width for every n, so their tokens have the same length. */
export function benchUserId(prefix: string, n: number): string {
  return `${prefix}-${String(n).padStart(9, "0")}`;
}

export function writeShopperTokens(dir: string, prefix: string, count: number): string {
  const file = path.join(dir, `${prefix}.tokens`);
  const lines: string[] = [];
  // Same-length tokens: the wrk script slices the file by offset.
  for (let i = 0; i < count; i++) lines.push(signToken(benchUserId(prefix, i), { expiresInSec: 3600 }));
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}
