/**
 * GET /api/orders/{orderId} — the caller's own order and its status; others' orders do not
 * exist, with the price it was accepted at and its sale's name and deduction (while the gateway
 * knows the sale); an order of a `reserve` or `payment` sale also tells until when it can be
 * paid (`payBy`).
 */
import { parseOrderId } from "@flash-sale/contract/ids";
import { lookUpOrder } from "../adapters/order_lookup";
import { cachedSale } from "../adapters/sale_cache";
import { observeRedis, redisClock } from "../adapters/metrics";
import { encodeJson } from "../adapters/json";
import { authenticatedShopper } from "../http/request";
import { sendError, sendJson } from "../http/respond";
import { orderView } from "../http/order_view";

export function handleOrderStatus(this: void): void {
  const userId = authenticatedShopper(ngx.now());
  if (userId === undefined) return sendError("unauthorized");

  const orderId = ngx.var.fs_order_id ?? "";
  const ref = parseOrderId(orderId);
  if (ref === undefined) return sendError("order_not_found");
  const known = cachedSale(ref.saleId);
  const redisStartedAt = redisClock();
  const order = lookUpOrder(ref, known === undefined ? 1 : known.sale.stockBuckets);
  observeRedis("order_lookup", redisStartedAt, typeof order !== "string");
  if (typeof order === "string") {
    ngx.log(ngx.ERR, "order status: Redis failed: ", order);
    return sendError("unavailable");
  }
  if (order === undefined || order.record.userId !== userId) return sendError("order_not_found");
  const view = orderView(orderId, ref.saleId, order.record, order.status, known?.sale);
  sendJson(200, encodeJson(view));
}
