/**
 * Sold-out flags in a shared dict: once a sale's stock is gone, every worker of this gateway
 * answers 410 without a Redis call. The config sync clears a flag when units come back.
 */
import { flagsDict } from "./shared_dict";

function flagKey(saleId: string): string {
  return "so:" + saleId;
}

export function isSoldOut(saleId: string): boolean {
  const [v] = flagsDict().get(flagKey(saleId));
  return v !== undefined;
}

export function markSoldOut(saleId: string): void {
  flagsDict().set(flagKey(saleId), true);
}

export function clearSoldOut(saleId: string): void {
  flagsDict().delete(flagKey(saleId));
}
