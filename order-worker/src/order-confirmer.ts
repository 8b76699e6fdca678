/**
 * After the Postgres commit: runs redis-scripts/order/confirm-orders.lua per sale of the batch
 * (pending → confirmed, then XACK of both of the sale's streams), in chunks within CONFIRM_CHUNK,
 * one call after the other, so that no call holds Redis long (purchases wait while a script
 * runs) and other clients' commands run between them. Sales are confirmed side by side.
 */
import { saleKeys } from "@flash-sale/contract/keys";
import { CONFIRM_ORDERS, type ConfirmReply } from "@flash-sale/contract/scripts/order";
import { RedisScript, type Redis } from "@flash-sale/node-common";
import type { BucketRef } from "./raw-entry";

const SCRIPT = RedisScript.load(CONFIRM_ORDERS);

/**
 * A script call's budget: an order costs ORDER_COST (two hash reads and a write), an entry id
 * of either stream 1 (its share of one XACK). 1,000 orders in one call held Redis 5 to 30 ms here; a call within
 * this budget (50 orders, or 200 entries) stays well under 1 ms (SLOWLOG, `make bench`, docs/benchmarks.md).
 */
export const CONFIRM_CHUNK = 200;
export const ORDER_COST = 4;

export interface SaleAck extends BucketRef {
  saleId: string;
  /** Orders now committed to Postgres: [epoch, number] each. */
  orders: [epoch: number, orderNo: number][];
  /** Order stream entries to acknowledge: the committed orders', and those set aside or malformed. */
  entryIds: string[];
  /** Status change entries to acknowledge: applied in Postgres, or malformed. */
  statusEntryIds: string[];
}

/** One script call's share of a sale's acknowledgement. */
export interface ConfirmChunk {
  orders: [epoch: number, orderNo: number][];
  entryIds: string[];
  statusEntryIds: string[];
}

/** What a call of this chunk costs against CONFIRM_CHUNK. */
export function chunkCost(chunk: ConfirmChunk): number {
  return chunk.orders.length * ORDER_COST + chunk.entryIds.length + chunk.statusEntryIds.length;
}

/**
 * Splits a sale's acknowledgement into calls within the budget: every order before any entry id
 * (then the status changes'), so an entry is acknowledged only once all orders of the batch are
 * confirmed (a crash between calls leaves entries pending, to be redelivered and confirmed
 * again: a no-op).
 */
export function confirmChunks(ack: SaleAck, budget: number = CONFIRM_CHUNK): ConfirmChunk[] {
  const chunks: ConfirmChunk[] = [];
  let current: ConfirmChunk = { orders: [], entryIds: [], statusEntryIds: [] };
  const add = (cost: number, put: (c: ConfirmChunk) => void) => {
    if (chunkCost(current) + cost > budget && chunkCost(current) > 0) {
      chunks.push(current);
      current = { orders: [], entryIds: [], statusEntryIds: [] };
    }
    put(current);
  };
  for (const order of ack.orders) add(ORDER_COST, (c) => c.orders.push(order));
  for (const id of ack.entryIds) add(1, (c) => c.entryIds.push(id));
  for (const id of ack.statusEntryIds) add(1, (c) => c.statusEntryIds.push(id));
  if (chunkCost(current) > 0) chunks.push(current);
  return chunks;
}

export class OrderConfirmer {
  /** onConfirmed(saleId, n): n orders of the sale went pending → confirmed (each order once, ever). */
  constructor(
    private readonly redis: Redis,
    private readonly group: string,
    private readonly onConfirmed: (saleId: string, confirmed: number) => void = () => undefined,
  ) {}

  async confirm(acks: SaleAck[]): Promise<ConfirmReply> {
    const replies = await Promise.all(acks.map((a) => this.confirmSale(a)));
    return replies.reduce(sum, { confirmed: 0, acked: 0 });
  }

  private async confirmSale(ack: SaleAck): Promise<ConfirmReply> {
    let total: ConfirmReply = { confirmed: 0, acked: 0 };
    for (const chunk of confirmChunks(ack)) {
      const result = await this.confirmChunk(ack, chunk);
      this.onConfirmed(ack.saleId, result.confirmed);
      total = sum(total, result);
    }
    return total;
  }

  private async confirmChunk(ack: SaleAck, chunk: ConfirmChunk): Promise<ConfirmReply> {
    const batch = [...chunk.orders.flatMap(([epoch, n]) => [String(n), String(epoch)]), ...chunk.entryIds, ...chunk.statusEntryIds];
    return SCRIPT.run(
      this.redis,
      saleKeys(ack.saleId, ack.bucket, ack.buckets),
      { group: this.group, orderCount: chunk.orders.length, entryCount: chunk.entryIds.length },
      { args: batch },
    );
  }
}

function sum(a: ConfirmReply, b: ConfirmReply): ConfirmReply {
  return { confirmed: a.confirmed + b.confirmed, acked: a.acked + b.acked };
}
