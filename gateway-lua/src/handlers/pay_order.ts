/**
 * POST /api/orders/{orderId}/pay — the demo's payment simulator: the order's owner pays an
 * unpaid order. One Redis script decides it against the order expiry and, for a `payment`
 * sale, takes the units or fails the order when too few are left; paying twice answers as the
 * first time and changes nothing. `order` sales take no payment.
 */
import { parseOrderId } from "@flash-sale/contract/ids";
import { cachedSale } from "../adapters/sale_cache";
import { payInRedis } from "../adapters/pay_script";
import { observeRedis, redisClock } from "../adapters/metrics";
import { authenticatedShopper } from "../http/request";
import { sendError, sendErrorWithMessage, sendJson } from "../http/respond";

export function handlePayOrder(this: void): void {
  const userId = authenticatedShopper(ngx.now());
  if (userId === undefined) return sendError("unauthorized");

  const orderId = ngx.var.fs_order_id ?? "";
  const ref = parseOrderId(orderId);
  if (ref === undefined) return sendError("order_not_found");
  const c = cachedSale(ref.saleId);
  if (c === undefined) return sendError("order_not_found");
  if (c.sale.deduction === "order") return sendError("payment_not_accepted");

  const redisStartedAt = redisClock();
  const reply = payInRedis(ref, userId, c.sale.deduction);
  observeRedis("pay", redisStartedAt, reply.outcome !== "unavailable");
  switch (reply.outcome) {
    case "paid":
    case "already_paid":
      return sendJson(200, '{"orderId":"' + orderId + '","status":"paid"}', "no-store", reply.outcome);
    case "expired":
      return sendError("order_expired");
    case "failed":
      return sendError("order_failed");
    case "not_found":
      return sendError("order_not_found");
    case "held":
      return sendErrorWithMessage("unavailable", "The sale is being rebuilt after a Redis failure; nothing was paid. Retry shortly.");
    case "unavailable":
      ngx.log(ngx.ERR, "pay: Redis failed: ", tostring(reply.error));
      return sendError("unavailable");
  }
}
