/**
 * GET /api/orders — the caller's orders in every sale this gateway knows, newest first, each as
 * GET /api/orders/{id} shows it. Two pipelined Redis round trips (adapters/order_list.ts); a sale
 * the gateway no longer knows (unpublished) is not searched.
 */
import { formatOrderId } from "@flash-sale/contract/ids";
import { cachedSales, configsKnown } from "../adapters/sale_cache";
import { listOrders, type ListedOrder } from "../adapters/order_list";
import { observeRedis, redisClock } from "../adapters/metrics";
import { encodeJson } from "../adapters/json";
import { authenticatedShopper } from "../http/request";
import { sendError, sendJson } from "../http/respond";
import { orderView } from "../http/order_view";

function newerFirst(this: void, a: ListedOrder, b: ListedOrder): boolean {
  if (a.record.acceptedAtMs !== b.record.acceptedAtMs) return a.record.acceptedAtMs > b.record.acceptedAtMs;
  if (a.sale.sale.id !== b.sale.sale.id) return a.sale.sale.id > b.sale.sale.id;
  return (tonumber(a.orderNo) as number) > (tonumber(b.orderNo) as number);
}

export function handleOrderList(this: void): void {
  const userId = authenticatedShopper(ngx.now());
  if (userId === undefined) return sendError("unauthorized");
  // Before the first config sync no sale is known: an empty list would be a false answer.
  if (!configsKnown()) return sendError("unavailable");

  const redisStartedAt = redisClock();
  const orders = listOrders(userId, cachedSales());
  observeRedis("order_list", redisStartedAt, typeof orders !== "string");
  if (typeof orders === "string") {
    ngx.log(ngx.ERR, "order list: Redis failed: ", orders);
    return sendError("unavailable");
  }
  if (orders.length === 0) return sendJson(200, '{"orders":[]}');
  table.sort(orders, newerFirst);
  const views: object[] = [];
  for (const o of orders) {
    const s = o.sale.sale;
    const orderId = formatOrderId(s.id, o.record.epoch, tonumber(o.orderNo) as number);
    views.push(orderView(orderId, s.id, o.record, o.status, s));
  }
  sendJson(200, '{"orders":' + encodeJson(views) + "}");
}
