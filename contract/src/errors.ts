/**
 * The one error catalogue: the gateway, the API and the pages answer with
 * `{"error": <code>, "message": <text>}` and the status given here.
 */
/** The codes, in catalogue order (Lua tables have no key order). */
export const ERROR_CODES = [
  "bad_request",
  "unauthorized",
  "forbidden",
  "challenge_failed",
  "pass_required",
  "not_found",
  "sale_not_found",
  "not_in_queue",
  "order_not_found",
  "webhook_not_found",
  "method_not_allowed",
  "limit_reached",
  "sale_conflict",
  "stock_below_taken",
  "payment_not_accepted",
  "sold_out",
  "sale_ended",
  "order_expired",
  "order_failed",
  "payload_too_large",
  "uri_too_long",
  "not_started",
  "rate_limited",
  "headers_too_large",
  "internal_error",
  "not_implemented",
  "sale_paused",
  "sale_busy",
  "unavailable",
  "http_version_not_supported",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface CatalogueEntry {
  status: number;
  message: string;
  /** Sent as Retry-After (and `retryAfter` in the body) with every answer of this code. */
  retryAfterSeconds?: number;
}

export const ERROR_CATALOGUE: { [code in ErrorCode]: CatalogueEntry } = {
  bad_request: { status: 400, message: "The request is malformed." },
  unauthorized: { status: 401, message: "A valid shopper token is required." },
  forbidden: { status: 403, message: "Your role does not allow this." },
  challenge_failed: { status: 403, message: "The challenge answer is wrong, expired or already used." },
  pass_required: { status: 403, message: "This sale has a waiting room: buy with the pass it gave you when your turn came." },
  not_found: { status: 404, message: "No such resource." },
  sale_not_found: { status: 404, message: "No such sale." },
  not_in_queue: { status: 404, message: "You are not in this sale's waiting room; join it with POST." },
  order_not_found: { status: 404, message: "No such order." },
  webhook_not_found: { status: 404, message: "No such webhook endpoint." },
  method_not_allowed: { status: 405, message: "This method is not allowed here." },
  limit_reached: { status: 409, message: "You already have the most units this sale allows per shopper." },
  sale_conflict: { status: 409, message: "The sale's state does not allow this change." },
  stock_below_taken: { status: 409, message: "The stock cannot go below the units sold or reserved." },
  payment_not_accepted: { status: 409, message: "This order takes no payment: its sale sells each unit for good when the order is accepted." },
  sold_out: { status: 410, message: "The sale is sold out." },
  sale_ended: { status: 410, message: "The sale has ended." },
  order_expired: { status: 410, message: "The order expired unpaid and its units went back on sale; nothing was charged." },
  order_failed: { status: 410, message: "No units were left when this order was paid: the order failed and nothing was charged." },
  payload_too_large: { status: 413, message: "The request body is too large." },
  uri_too_long: { status: 414, message: "The request URI is too long." },
  not_started: { status: 425, message: "The sale has not started yet." },
  rate_limited: { status: 429, message: "Too many requests; retry after the given number of seconds." },
  headers_too_large: { status: 431, message: "The request headers are too large." },
  internal_error: { status: 500, message: "An unexpected error occurred." },
  not_implemented: { status: 501, message: "The request uses a feature this server does not implement." },
  sale_paused: { status: 503, message: "The sale is paused; retry later." },
  sale_busy: { status: 503, message: "Too many orders of this sale are waiting for payment; retry later." },
  // A backend down or slow: retrying at once would add to the load that caused it.
  unavailable: { status: 503, message: "The service is unavailable; nothing was sold. Retry later.", retryAfterSeconds: 2 },
  http_version_not_supported: { status: 505, message: "This HTTP version is not supported." },
};
