/**
 * A shopper's orders over the sales this worker knows, in two pipelined round trips: an HGET
 * of each sale's user-orders index (SaleKeys.userOrders), then one HMGET of record and status
 * per order in the sales where the shopper has any. Cost per call: S + M commands for S known
 * sales and M of the shopper's sales with orders, at most MAX_ORDERS_PER_SALE orders each.
 */
import { orderRecordField, orderStatusField } from "../core/keys";
import { newestOrderNumbers, parseOrderRecord } from "../core/order_record";
import type { CachedSale } from "./sale_cache";
import { discardRedis, openRedis, releaseRedis, type RedisConnection } from "./redis_connection";

/** A sale's per-user limit bounds its orders per shopper; this bounds a misconfigured one. */
const MAX_ORDERS_PER_SALE = 20;

export interface ListedOrder {
  sale: CachedSale;
  orderNo: string;
  epoch: number;
  quantity: number;
  acceptedAtMs: number;
  status: string;
}

interface SaleNumbers {
  sale: CachedSale;
  numbers: string[];
}

function indexEntries(red: RedisConnection, userId: string, sales: CachedSale[]): SaleNumbers[] | string {
  red.init_pipeline(sales.length);
  for (const c of sales) red.hget(c.userOrdersKey, userId);
  const [replies, err] = red.commit_pipeline();
  if (replies === undefined) return "user-orders pipeline: " + tostring(err);
  const found: SaleNumbers[] = [];
  for (let i = 0; i < sales.length; i++) {
    const reply = replies[i];
    if (typeof reply === "string") found.push({ sale: sales[i] as CachedSale, numbers: newestOrderNumbers(reply, MAX_ORDERS_PER_SALE) });
    else if (reply !== ngx.null) return "HGET user-orders: " + tostring((reply as unknown[] | undefined)?.[1]);
  }
  return found;
}

function records(red: RedisConnection, userId: string, found: SaleNumbers[]): ListedOrder[] | string {
  red.init_pipeline(found.length);
  for (const f of found) {
    const fields: string[] = [];
    for (const n of f.numbers) fields.push(orderRecordField(n), orderStatusField(n));
    red.hmget(f.sale.ordersKey, ...fields);
  }
  const [replies, err] = red.commit_pipeline();
  if (replies === undefined) return "orders pipeline: " + tostring(err);
  const orders: ListedOrder[] = [];
  for (let i = 0; i < found.length; i++) {
    const f = found[i] as SaleNumbers;
    // An error reply in a pipeline is {false, message}.
    const values = replies[i] as (string | NgxNull | false)[];
    if (values[0] === false) return "HMGET orders: " + tostring(values[1]);
    for (let j = 0; j < f.numbers.length; j++) {
      const text = values[2 * j];
      const status = values[2 * j + 1];
      if (typeof text !== "string" || typeof status !== "string") continue;
      const record = parseOrderRecord(text);
      // The index names the shopper's own orders; the check keeps it so if the two ever disagree.
      if (record === undefined || record.userId !== userId) continue;
      orders.push({ sale: f.sale, orderNo: f.numbers[j] as string, epoch: record.epoch, quantity: record.quantity, acceptedAtMs: record.acceptedAtMs, status });
    }
  }
  return orders;
}

/** The shopper's orders in these sales (unordered), or an error string when Redis failed. */
export function listOrders(userId: string, sales: CachedSale[]): ListedOrder[] | string {
  if (sales.length === 0) return [];
  const [red, connectErr] = openRedis();
  if (red === undefined) return connectErr ?? "connect failed";
  const found = indexEntries(red, userId, sales);
  let orders: ListedOrder[] | string = [];
  if (typeof found === "string") orders = found;
  else if (found.length > 0) orders = records(red, userId, found);
  if (typeof orders === "string") discardRedis(red);
  else releaseRedis(red);
  return orders;
}
