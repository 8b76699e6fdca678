/** Changes of a sale's total applied to its units left in Redis (redis-scripts/adjust-stock.lua). */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/gateway-lua/core/keys";

// Two levels up from both src/sales (ts-jest) and build/sales (node).
const SCRIPT = readFileSync(path.resolve(__dirname, "../../redis-scripts/adjust-stock.lua"), "utf8");

export type StockAdjustment =
  | { kind: "applied"; unitsLeft: number }
  /** Units left would go below 0: the total would be below what is sold or reserved. */
  | { kind: "refused"; unitsLeft: number }
  | { kind: "not_loaded" };

export async function adjustLiveStock(redis: Redis, saleId: string, change: number): Promise<StockAdjustment> {
  const reply = await redis.eval(SCRIPT, 1, saleKeys(saleId).stock, change);
  if (!Array.isArray(reply) || typeof reply[0] !== "number" || typeof reply[1] !== "number") {
    throw new Error(`adjust-stock.lua answered ${JSON.stringify(reply)}`);
  }
  const [status, unitsLeft] = reply as [number, number];
  if (status === 1) return { kind: "applied", unitsLeft };
  if (status === 0) return { kind: "refused", unitsLeft };
  return { kind: "not_loaded" };
}
