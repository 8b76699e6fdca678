/** One purchase attempt as a shopper, and the metrics every script keeps about it. */
import http from "k6/http";
import { check } from "k6";
import { Counter, Rate } from "k6/metrics";
import { signShopperToken } from "./shopper-token.ts";
import type { SaleScenario } from "./scenario.ts";

/** 202s: must never exceed the sale's stock (a threshold of the spike). */
export const ordersAccepted = new Counter("orders_accepted");
/**
 * Answers that may hide an order: no answer at all, or a 503 with orderMayExist (docs/guarantees.md,
 * "What a 202 guarantees"). Postgres may hold up to this many orders more than orders_accepted.
 */
export const ordersUncertain = new Counter("orders_uncertain");
/** Share of answers that are 5xx or no answer at all. */
export const serverErrors = new Rate("server_errors");

/** The answers of the public contract to a purchase (docs/api.md, openapi.yaml). */
const CONTRACT_STATUSES = [202, 400, 401, 403, 404, 409, 410, 413, 425, 429, 503];

export interface PurchaseResult {
  status: number;
  orderId: string | undefined;
  token: string;
}

export function purchaseAs(s: SaleScenario, userId: string, secret: string): PurchaseResult {
  const token = signShopperToken(userId, secret, 3600);
  const res = http.post(`${s.gatewayUrl}/api/sales/${s.saleId}/purchase`, JSON.stringify({ quantity: 1 }), {
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    tags: { name: "purchase" },
  });
  // No answer, or a 5xx other than the contract's 503 sale_paused and sale_busy (the open
  // unpaid orders of a `payment` sale at their bound): those two ask to retry later.
  const retryLater =
    res.status === 503 && typeof res.body === "string" && (res.body.includes('"sale_paused"') || res.body.includes('"sale_busy"'));
  serverErrors.add(res.status === 0 || (res.status >= 500 && !retryLater));
  check(res, { "answer from the contract": (r) => CONTRACT_STATUSES.includes(r.status) });
  if (res.status === 0 || (res.status === 503 && typeof res.body === "string" && res.body.includes('"orderMayExist":true'))) ordersUncertain.add(1);
  let orderId: string | undefined;
  if (res.status === 202) {
    ordersAccepted.add(1);
    orderId = (res.json("orderId") as string | null) ?? undefined;
  }
  return { status: res.status, orderId, token };
}
