/**
 * Copies order status changes made in Redis (paid, expired: the statusChanges stream the pay
 * and expiry scripts append to) to the orders rows in Postgres. An entry is deleted once its
 * row has the status; an order the worker has not written yet stops the copy there until a
 * later run, so no change is lost and the stream's order is kept. Applying an entry twice
 * changes nothing.
 */
import type { Redis } from "@flash-sale/node-common";
import { saleKeys } from "@flash-sale/gateway-lua/core/keys";
import type { SaleRepository } from "../sales/repository";

/** Entries read per round. */
const BATCH = 1000;

type StreamEntry = [id: string, fields: string[]];

interface StatusChange {
  entryId: string;
  orderId: string;
  status: string;
}

/** Entries are written by the pay and expiry scripts only: fields `n`, `epoch` and `status`. */
function parseEntry(saleId: string, [entryId, fields]: StreamEntry): StatusChange {
  const value = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) value.set(fields[i]!, fields[i + 1]!);
  return { entryId, orderId: `${saleId}.${value.get("epoch") ?? ""}.${value.get("n") ?? ""}`, status: value.get("status") ?? "" };
}

/** Returns how many changes reached Postgres. */
export async function applyStatusChanges(redis: Redis, repository: SaleRepository, saleId: string): Promise<number> {
  const stream = saleKeys(saleId).statusChanges;
  let applied = 0;
  for (;;) {
    const entries = (await redis.xrange(stream, "-", "+", "COUNT", BATCH)) as StreamEntry[];
    if (entries.length === 0) return applied;
    const changes = entries.map((e) => parseEntry(saleId, e));
    const found = await repository.setOrderStatuses(changes);
    const firstMissing = changes.findIndex((c) => !found.has(c.orderId));
    const done = firstMissing === -1 ? changes : changes.slice(0, firstMissing);
    if (done.length > 0) await redis.xdel(stream, ...done.map((c) => c.entryId));
    applied += done.length;
    if (done.length < changes.length || entries.length < BATCH) return applied;
  }
}
