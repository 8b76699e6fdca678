/**
 * The order page (/orders/{orderId}): the shopper's order, its status followed with backoff
 * until it settles (pending → confirmed; for a `reserve` sale then paid or expired, for a
 * `payment` sale paid, failed or expired), and the demo's pay button while an order waits for
 * its payment.
 */
import { getJson, postJson, type Order, type OrderStatus } from "./api.js";
import { askToLogIn } from "./demo-login.js";
import { byId, idFromPath, show, sleep } from "./dom.js";
import { formatTime } from "./format.js";

/** First wait between two reads, the factor it grows by, and its ceiling, ms. */
const FIRST_DELAY_MS = 500;
const BACKOFF_FACTOR = 1.6;
const MAX_DELAY_MS = 10000;

/**
 * Statuses after which nothing more happens to the order, unless it awaits a payment
 * (an order that says `payBy` goes on to paid, expired or, for a `payment` sale, failed).
 */
const SETTLED: readonly OrderStatus[] = ["confirmed", "paid", "expired", "failed"];

const STATUS_TEXT: Record<OrderStatus, string> = {
  pending: "Pending: your unit is held and the order is being recorded.",
  confirmed: "Confirmed: your order is recorded.",
  paid: "Paid: thank you.",
  expired: "Expired: the order was not paid in time; nothing was charged.",
  failed: "Failed: the order could not be completed; nothing was charged.",
};

/** A `reserve` sale holds the unit for the order; a `payment` sale takes it at payment. */
const RESERVED_TEXT = "Reserved: your unit is held until you pay.";
const AWAITING_PAYMENT_TEXT = "Awaiting payment: paying takes your unit, while any are left.";

const orderId = idFromPath();
const el = {
  id: byId("order-id"),
  sale: byId<HTMLAnchorElement>("order-sale"),
  quantity: byId("order-quantity"),
  acceptedAt: byId("order-accepted"),
  status: byId("order-status"),
  details: byId("order-details"),
  payment: byId("order-payment"),
  payBy: byId("order-pay-by"),
  pay: byId<HTMLButtonElement>("order-pay"),
  message: byId("message"),
};

function awaitsPayment(order: Order): boolean {
  return order.payBy !== undefined && (order.status === "pending" || order.status === "confirmed");
}

function isSettled(order: Order): boolean {
  return !awaitsPayment(order) && SETTLED.includes(order.status);
}

function render(order: Order): void {
  el.id.textContent = order.orderId;
  el.sale.textContent = order.saleId;
  el.sale.href = `/sales/${encodeURIComponent(order.saleId)}`;
  el.quantity.textContent = String(order.quantity);
  el.acceptedAt.textContent = formatTime(order.acceptedAt);
  const awaitingText = order.deduction === "payment" ? AWAITING_PAYMENT_TEXT : RESERVED_TEXT;
  const text = awaitsPayment(order) ? awaitingText : STATUS_TEXT[order.status];
  if (el.status.textContent !== text) el.status.textContent = text;
  document.body.dataset.orderStatus = order.status;
  show(el.details, true);
  if (order.payBy !== undefined) el.payBy.textContent = formatTime(order.payBy);
  show(el.payment, awaitsPayment(order));
}

/** The demo's payment; the order is read again whatever the answer (paid, or expired meanwhile). */
async function pay(): Promise<void> {
  el.pay.disabled = true;
  const res = await postJson<unknown>(`/api/orders/${encodeURIComponent(orderId)}/pay`, {});
  el.message.textContent = res.ok ? "" : res.message;
  const order = await getJson<Order>(`/api/orders/${encodeURIComponent(orderId)}`);
  if (order.ok) render(order.body);
  el.pay.disabled = false;
}

async function follow(): Promise<void> {
  let delay = FIRST_DELAY_MS;
  for (;;) {
    const res = await getJson<Order>(`/api/orders/${encodeURIComponent(orderId)}`);
    if (res.ok) {
      render(res.body);
      el.message.textContent = "";
      if (isSettled(res.body)) return;
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
el.pay.addEventListener("click", () => void pay());
void follow();
