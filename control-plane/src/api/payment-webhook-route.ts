/**
 * POST /payments/webhook — the payment provider's callback that an order is paid, signed with
 * HMAC (payments/webhook-signature.ts) instead of the admin token. Body `{"orderId": "<sale>.<n>"}`.
 * Refused: a bad signature, a timestamp outside the skew window, a delivery seen before (the
 * same signature: a replay). A genuine new delivery for an order already paid changes nothing
 * and answers as the first one did.
 */
import express, { type RequestHandler } from "express";
import type { Logger, Redis } from "@flash-sale/node-common";
import { parseOrderId } from "@flash-sale/contract/ids";
import { webhookDeliveryKey } from "@flash-sale/contract/keys";
import { ApiError } from "./api-error";
import type { SaleRepository } from "../store/sale-repository";
import { chargeOf, payOrder } from "../payments/order-payment";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, checkDelivery } from "../payments/webhook-signature";

export const WEBHOOK_PATH = "/payments/webhook";
const BODY_LIMIT = "4kb";

/** The raw bytes, whatever the Content-Type: the signature covers the body exactly as sent. */
export const webhookBody: RequestHandler = express.raw({ type: () => true, limit: BODY_LIMIT });

export interface WebhookSettings {
  secret: string;
  skewSeconds: number;
}

export interface WebhookDeps extends WebhookSettings {
  redis: Redis;
  repository: SaleRepository;
  logger: Logger;
  now?: () => number;
}

function orderIdOf(body: Buffer): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  const orderId = (parsed as { orderId?: unknown } | null)?.orderId;
  return typeof orderId === "string" ? orderId : undefined;
}

/** The handler; `webhookBody` must run before it. */
export function paymentWebhook({ redis, repository, logger, secret, skewSeconds, now = Date.now }: WebhookDeps): RequestHandler {
  return async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const signature = req.header(SIGNATURE_HEADER);
    const refusal = checkDelivery(secret, req.header(TIMESTAMP_HEADER), signature, body, now(), skewSeconds);
    if (refusal !== undefined) throw new ApiError("unauthorized", `The payment webhook is refused: ${refusal}.`);

    const orderId = orderIdOf(body);
    const ref = orderId === undefined ? undefined : parseOrderId(orderId);
    if (ref === undefined) throw new ApiError("bad_request", 'The body must be {"orderId": "<sale id>.<epoch>.<order number>"}.');
    const sale = await repository.find(ref.saleId);
    if (sale === undefined) throw new ApiError("order_not_found");
    if (sale.deduction === "order") throw new ApiError("payment_not_accepted");

    // Kept while the timestamp is fresh: after that the skew check refuses the replay anyway.
    const deliveryKey = webhookDeliveryKey(signature as string);
    const fresh = await redis.set(deliveryKey, "1", "EX", 2 * skewSeconds, "NX");
    if (fresh === null) throw new ApiError("unauthorized", "The payment webhook is refused: this delivery was received before.");

    const payment = await payOrder(redis, ref, sale.deduction);
    if (payment.outcome === "held") {
      // Nothing was paid: the provider's retry of this same delivery must be let in.
      await redis.del(deliveryKey);
      throw new ApiError("unavailable", "The sale is being rebuilt after a Redis failure; retry the delivery shortly.");
    }
    if (payment.outcome === "expired") {
      logger.warn({ orderId }, "payment for an expired order refused: the provider must refund it");
      throw new ApiError("order_expired");
    }
    if (payment.outcome === "failed") {
      logger.warn({ orderId }, "payment for an order that found no units left: the provider must refund it");
      throw new ApiError("order_failed");
    }
    if (payment.outcome === "not_found") throw new ApiError("order_not_found");
    // What the provider must have charged: the order's own price, whatever the sale's is now.
    res.json({ orderId, status: "paid", ...chargeOf(payment, sale) });
  };
}
