/**
 * A shopper's orders over the sales this worker knows, in two pipelined round trips per Redis
 * node (one on a single Redis): an HGET of each sale's user-orders index (SaleKeys.userOrders),
 * then one HMGET of record and status per order in the sales where the shopper has any. Cost
 * per call: S + M commands for S known sales and M of the shopper's sales with orders, at most
 * MAX_ORDERS_PER_SALE orders each. A sale in stock buckets is read in the shopper's bucket, where
 * all of their orders are.
 */
import { orderRecordField, orderStatusField } from "@flash-sale/contract/keys";
import { newestOrderNumbers, parseOrderRecord, type OrderRecord } from "@flash-sale/contract/order_record";
import { shopperBucket, type CachedSale } from "./sale_cache";
import { callNode, nodeOfSlot, slotMapStale } from "./redis_connection";

type RedisConnection = RestyRedis;

/** A sale's per-user limit bounds its orders per shopper; this bounds a misconfigured one. */
const MAX_ORDERS_PER_SALE = 20;

export interface ListedOrder {
  sale: CachedSale;
  orderNo: string;
  record: OrderRecord;
  status: string;
}

interface SaleNumbers {
  sale: CachedSale;
  numbers: string[];
}

function indexEntries(red: RedisConnection, userId: string, sales: CachedSale[]): SaleNumbers[] | string {
  red.init_pipeline(sales.length);
  for (const c of sales) red.hget(shopperBucket(c, userId).keys.userOrders, userId);
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
    red.hmget(shopperBucket(f.sale, userId).keys.orders, ...fields);
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
      orders.push({ sale: f.sale, orderNo: f.numbers[j] as string, record, status });
    }
  }
  return orders;
}

interface NodeWork {
  userId: string;
  sales: CachedSale[];
}

/** Both pipelines on one node's connection; an error reply as (false, message), as Redis gave it. */
function listOnNode(this: void, red: RestyRedis, _runId: string, _asking: boolean, w: NodeWork): LuaMultiReturn<[unknown, string | undefined]> {
  const found = indexEntries(red, w.userId, w.sales);
  if (typeof found === "string") return $multi(false, found);
  const orders = found.length > 0 ? records(red, w.userId, found) : [];
  if (typeof orders === "string") return $multi(false, orders);
  return $multi(orders, undefined);
}

/** The shopper's orders in these sales (unordered), or an error string when Redis failed. */
export function listOrders(userId: string, sales: CachedSale[]): ListedOrder[] | string {
  const byNode = new LuaTable<string, CachedSale[]>();
  const nodes: string[] = [];
  for (const c of sales) {
    const [node, noNode] = nodeOfSlot(shopperBucket(c, userId).slot);
    if (node === undefined) return noNode ?? "no node for a sale";
    let list = byNode.get(node);
    if (list === undefined) {
      list = [];
      byNode.set(node, list);
      nodes.push(node);
    }
    list.push(c);
  }
  const orders: ListedOrder[] = [];
  for (const node of nodes) {
    const [res, err] = callNode(node, listOnNode, { userId, sales: byNode.get(node) as CachedSale[] });
    if (res === undefined || res === false) {
      // A MOVED in a pipeline after a failover or a reshard: read the map again for the next call.
      if (res === false) slotMapStale();
      return tostring(err);
    }
    for (const o of res as ListedOrder[]) orders.push(o);
  }
  return orders;
}
