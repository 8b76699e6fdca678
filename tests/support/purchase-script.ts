/**
 * Runs the gateway's real purchase script (contract/redis-scripts/order/purchase.lua) the way the
 * gateway does: one call with the sale's keys and the price of its published record, so tests
 * fill the order streams exactly as production will.
 */
import { SALE_CONFIGS_KEY, saleKeys } from "@flash-sale/contract/keys";
import type { PurchaseScriptReply } from "@flash-sale/contract/purchase_reply";
import { PURCHASE } from "@flash-sale/contract/scripts/order";
import { RedisScript, type Redis } from "@flash-sale/node-common";
import { redisRunId } from "./stream-fixtures";

const SCRIPT = RedisScript.load(PURCHASE);

/** The price and currency of the sale's published record, which the gateway passes on. */
export interface Shown {
  price: number;
  currency: string;
}

async function shownPrice(redis: Redis, saleId: string): Promise<Shown> {
  const record = await redis.hget(SALE_CONFIGS_KEY, saleId);
  if (record === null) throw new Error(`sale ${saleId} is not published`);
  const { price, currency } = JSON.parse(record) as Shown;
  return { price, currency };
}

export async function purchase(
  redis: Redis,
  saleId: string,
  userId: string,
  qty: number,
  limit: number,
  requestId: string,
  runId: string,
  shown: Shown,
): Promise<PurchaseScriptReply> {
  // Open-unpaid bound 0: the units are taken at acceptance (deductions order and reserve); no waiting-room pass.
  return SCRIPT.run(redis, saleKeys(saleId), {
    saleId, userId, quantity: qty, perUserLimit: limit, requestId, openUnpaidBound: 0, runId, passEpoch: "", price: shown.price, currency: shown.currency,
  });
}

export interface AcceptedOrder {
  orderId: string;
  saleId: string;
  orderNo: number;
  userId: string;
  qty: number;
}

export interface Attempt {
  userId: string;
  qty: number;
}

/**
 * Runs the attempts in order (sent together, so Redis sees them in one burst) and returns
 * the accepted ones.
 */
export async function buyAll(redis: Redis, saleId: string, attempts: Attempt[], limit: number): Promise<AcceptedOrder[]> {
  const runId = await redisRunId(redis);
  const shown = await shownPrice(redis, saleId);
  const replies = await Promise.all(
    attempts.map((a, i) => purchase(redis, saleId, a.userId, a.qty, limit, `req-${saleId}-${i}`, runId, shown)),
  );
  const accepted: AcceptedOrder[] = [];
  replies.forEach((reply, i) => {
    if (reply.outcome !== "accepted") return;
    const a = attempts[i] as Attempt;
    const orderId = reply.orderId as string;
    accepted.push({ orderId, saleId, orderNo: Number(orderId.slice(orderId.lastIndexOf(".") + 1)), userId: a.userId, qty: a.qty });
  });
  return accepted;
}
