/** The order's scripts (contract/redis-scripts/order/): accept, pay, expire, confirm. */
import { PURCHASE_CODES, decodePurchaseReply } from "../purchase_reply";
import { PAY_CODES, decodePayReply } from "../pay_reply";
import { declareScript, replyCode, replyList, replyNumber } from "./script";

/** Accepts one shopper's order (the gateway's hot path); extra key and value: the used-challenge mark. */
export const PURCHASE = declareScript({
  file: "order/purchase",
  keys: ["stock", "sold", "buyers", "orderSeq", "orders", "stream", "openUnpaid", "meta", "userOrders"],
  moreKeys: "usedChallenge",
  args: ["saleId", "userId", "quantity", "perUserLimit", "requestId", "openUnpaidBound", "runId", "passEpoch", "price", "currency"],
  moreArgs: "challengeTtlMs",
  codes: PURCHASE_CODES,
  decode: decodePurchaseReply,
});

/** Pays one order, by the shopper (gateway) or the provider's webhook (control plane). */
export const PAY_ORDER = declareScript({
  file: "order/pay-order",
  keys: ["orders", "paid", "statusChanges", "stock", "sold", "openUnpaid", "meta"],
  args: ["orderNo", "userId", "deduction", "epoch"],
  codes: PAY_CODES,
  decode: decodePayReply,
});

export type ExpiryReply = { reply: "walked"; expired: number; unitsReturned: number; cursor: number; more: boolean } | { reply: "held" };

/** Expires the unpaid orders that are due (the control plane's job). */
export const EXPIRE_RESERVATIONS = declareScript({
  file: "order/expire-reservations",
  keys: ["stock", "sold", "orderSeq", "orders", "expiryCursor", "statusChanges", "openUnpaid", "meta"],
  args: ["timeoutMs", "budget", "deduction"],
  codes: { held: -1 },
  decode: (reply: unknown): ExpiryReply | undefined => {
    const r = replyList(reply);
    if (r === undefined) return undefined;
    if (replyCode(r) === -1) return { reply: "held" };
    const expired = replyNumber(r, 0);
    const unitsReturned = replyNumber(r, 1);
    const cursor = replyNumber(r, 2);
    const more = replyNumber(r, 3);
    if (expired === undefined || unitsReturned === undefined || cursor === undefined || more === undefined) return undefined;
    return { reply: "walked", expired, unitsReturned, cursor, more: more === 1 };
  },
});

export interface ConfirmReply {
  confirmed: number;
  acked: number;
}

/** Confirms a chunk of orders now in Postgres and acknowledges stream entries (the order worker). */
export const CONFIRM_ORDERS = declareScript({
  file: "order/confirm-orders",
  keys: ["orders", "stream", "statusChanges"],
  args: ["group", "orderCount", "entryCount"],
  moreArgs: "batch",
  codes: {},
  decode: (reply: unknown): ConfirmReply | undefined => {
    const r = replyList(reply);
    const confirmed = r === undefined ? undefined : replyNumber(r, 0);
    const acked = r === undefined ? undefined : replyNumber(r, 1);
    return confirmed === undefined || acked === undefined ? undefined : { confirmed, acked };
  },
});
