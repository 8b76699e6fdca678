/** Reads one order's record and status from its sale's orders hash (one HMGET). */
import { keySlot } from "@flash-sale/contract/cluster";
import { orderRecordField, orderStatusField, saleKeys } from "@flash-sale/contract/keys";
import { bucketOfOrderNo } from "@flash-sale/contract/buckets";
import type { OrderRef } from "@flash-sale/contract/ids";
import { parseOrderRecord, type OrderRecord } from "@flash-sale/contract/order_record";
import { callSlot } from "./redis_connection";

export interface OrderView {
  record: OrderRecord;
  status: string;
}

function readOrder(this: void, red: RestyRedis, _runId: string, _asking: boolean, p: { ref: OrderRef; key: string }): LuaMultiReturn<[unknown, string | undefined]> {
  return red.hmget(p.key, orderRecordField(p.ref.orderNo), orderStatusField(p.ref.orderNo));
}

/** The order (in the stock bucket its number names), undefined when there is none, or an error string when Redis failed. */
export function lookUpOrder(ref: OrderRef, buckets: number): OrderView | undefined | string {
  const key = saleKeys(ref.saleId, bucketOfOrderNo(tonumber(ref.orderNo) as number, buckets), buckets).orders;
  const [reply, err] = callSlot(keySlot(key), readOrder, { ref, key });
  if (reply === undefined || reply === false) return "HMGET: " + tostring(err);
  const values = reply as (string | NgxNull)[];
  const text = values[0];
  const status = values[1];
  if (typeof text !== "string" || typeof status !== "string") return undefined;
  const record = parseOrderRecord(text);
  // Another epoch's order of the same number is another order (see SaleKeys.orders).
  if (record === undefined || record.epoch !== tonumber(ref.epoch)) return undefined;
  return { record, status };
}
