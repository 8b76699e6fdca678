/**
 * The order page (/orders/{orderId}): the shopper's order, its status followed with backoff
 * until it settles (pending → confirmed → paid or expired).
 */
import { getJson, type Order, type OrderStatus } from "./api.js";
import { askToLogIn } from "./demo-login.js";
import { byId, idFromPath, show, sleep } from "./dom.js";
import { formatTime } from "./format.js";

/** First wait between two reads, the factor it grows by, and its ceiling, ms. */
const FIRST_DELAY_MS = 500;
const BACKOFF_FACTOR = 1.6;
const MAX_DELAY_MS = 10000;

/**
 * Statuses after which nothing more happens to the order. `confirmed` is one of them while
 * every sale takes its unit at order time (deduction `order`): there is no payment step yet.
 */
const SETTLED: readonly OrderStatus[] = ["confirmed", "paid", "expired", "failed"];

const STATUS_TEXT: Record<OrderStatus, string> = {
  pending: "Pending: your unit is held and the order is being recorded.",
  confirmed: "Confirmed: your order is recorded.",
  paid: "Paid: thank you.",
  expired: "Expired: the order was not paid in time and the unit went back to the sale.",
  failed: "Failed: the order could not be completed; nothing was charged.",
};

const orderId = idFromPath();
const el = {
  id: byId("order-id"),
  sale: byId<HTMLAnchorElement>("order-sale"),
  quantity: byId("order-quantity"),
  acceptedAt: byId("order-accepted"),
  status: byId("order-status"),
  details: byId("order-details"),
  message: byId("message"),
};

function render(order: Order): void {
  el.id.textContent = order.orderId;
  el.sale.textContent = order.saleId;
  el.sale.href = `/sales/${encodeURIComponent(order.saleId)}`;
  el.quantity.textContent = String(order.quantity);
  el.acceptedAt.textContent = formatTime(order.acceptedAt);
  if (el.status.textContent !== STATUS_TEXT[order.status]) el.status.textContent = STATUS_TEXT[order.status];
  document.body.dataset.orderStatus = order.status;
  show(el.details, true);
}

async function follow(): Promise<void> {
  let delay = FIRST_DELAY_MS;
  for (;;) {
    const res = await getJson<Order>(`/api/orders/${encodeURIComponent(orderId)}`);
    if (res.ok) {
      render(res.body);
      el.message.textContent = "";
      if (SETTLED.includes(res.body.status)) return;
    } else if (res.error === "unauthorized") {
      el.message.textContent = "Log in to see your order.";
      await askToLogIn();
      el.message.textContent = "";
      continue;
    } else if (res.error === "order_not_found") {
      el.status.textContent = "There is no such order among yours.";
      return;
    } else {
      el.message.textContent = `${res.message} Retrying…`;
    }
    await sleep(delay);
    delay = Math.min(MAX_DELAY_MS, delay * BACKOFF_FACTOR);
  }
}

el.id.textContent = orderId;
void follow();
