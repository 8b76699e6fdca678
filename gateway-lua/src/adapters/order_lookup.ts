/** Reads one order's record and status from its sale's orders hash (one HMGET). */
import { keySlot } from "../core/cluster";
import { orderRecordField, orderStatusField, saleKeys } from "../core/keys";
import type { OrderRef } from "../core/ids";
import { callSlot } from "./redis_connection";

export interface OrderView {
  userId: string;
  quantity: number;
  acceptedAtMs: number;
  status: string;
}

function readOrder(this: void, red: RestyRedis, _runId: string, _asking: boolean, ref: OrderRef): LuaMultiReturn<[unknown, string | undefined]> {
  return red.hmget(saleKeys(ref.saleId).orders, orderRecordField(ref.orderNo), orderStatusField(ref.orderNo));
}

/** The order, undefined when there is none, or an error string when Redis failed. */
export function lookUpOrder(ref: OrderRef): OrderView | undefined | string {
  const [reply, err] = callSlot(keySlot(saleKeys(ref.saleId).orders), readOrder, ref);
  if (reply === undefined || reply === false) return "HMGET: " + tostring(err);
  const values = reply as (string | NgxNull)[];
  const record = values[0];
  const status = values[1];
  if (record === undefined || record === ngx.null || status === undefined || status === ngx.null) return undefined;
  const [userId, quantity, acceptedAt, epoch] = string.match(record as string, "^([^\t]+)\t(%d+)\t(%d+)\t(%d+)$");
  // Another epoch's order of the same number is another order (see SaleKeys.orders).
  if (userId === undefined || epoch !== ref.epoch) return undefined;
  return { userId, quantity: tonumber(quantity) as number, acceptedAtMs: tonumber(acceptedAt) as number, status: status as string };
}
