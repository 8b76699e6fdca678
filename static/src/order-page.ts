/**
 * The order page (/orders/{orderId}): the shopper's order with its sale's name, the price it was
 * bought at and quantity, its status followed with backoff until it settles (pending →
 * confirmed; for a `reserve` sale then paid or expired, for a `payment` sale paid, failed or
 * expired), and while it waits for its payment a live countdown to the deadline and the demo's
 * pay button.
 */
import { getJson, isUnreachable, postJson, type Order } from "./api.js";
import { offerLogin, readSession, showSession } from "./demo-login.js";
import { byId, idFromPath, show, sleep } from "./dom.js";
import { formatCountdown, formatOrderPrice, formatTime } from "./format.js";
import { awaitsPayment, isSettled, saleLabel, statusText } from "./order-view.js";
import { serverNow, syncServerClock } from "./server-clock.js";
import { retryDelaySec } from "./texts.js";

/** First wait between two reads, the factor it grows by, and its ceiling, ms. */
const FIRST_DELAY_MS = 500;
const BACKOFF_FACTOR = 1.6;
const MAX_DELAY_MS = 10000;

const orderId = idFromPath();
const el = {
  title: byId("order-title"),
  id: byId("order-id"),
  sale: byId<HTMLAnchorElement>("order-sale"),
  price: byId("order-price"),
  quantity: byId("order-quantity"),
  acceptedAt: byId("order-accepted"),
  status: byId("order-status"),
  details: byId("order-details"),
  payment: byId("order-payment"),
  payBy: byId("order-pay-by"),
  payLeft: byId("order-pay-left"),
  pay: byId<HTMLButtonElement>("order-pay"),
  unreachable: byId("unreachable"),
  unreachableText: byId("unreachable-text"),
  message: byId("message"),
};

let current: Order | undefined;

function render(order: Order): void {
  current = order;
  el.id.textContent = order.orderId;
  el.sale.textContent = saleLabel(order);
  el.sale.href = `/sales/${encodeURIComponent(order.saleId)}`;
  el.price.textContent = order.price === undefined || order.currency === undefined ? "—" : formatOrderPrice(order.price, order.currency, order.quantity);
  el.quantity.textContent = String(order.quantity);
  el.acceptedAt.textContent = formatTime(order.acceptedAt);
  const text = statusText(order);
  if (el.status.textContent !== text) el.status.textContent = text;
  document.body.dataset.orderStatus = order.status;
  document.title = `${saleLabel(order)}: your order — Flash sale`;
  show(el.details, true);
  if (order.payBy !== undefined) el.payBy.textContent = formatTime(order.payBy);
  show(el.payment, awaitsPayment(order));
  renderPayLeft();
}

/** The time left to pay, every second; a screen reader reads it when asked (role=timer), not aloud. */
function renderPayLeft(): void {
  if (current?.payBy === undefined || !awaitsPayment(current)) return;
  const left = Date.parse(current.payBy) - serverNow();
  el.payLeft.textContent = left > 0 ? `${formatCountdown(left)} left` : "The time to pay has passed.";
  el.pay.disabled = left <= 0;
}

function renderNotFound(): void {
  document.title = "Order not found — Flash sale";
  el.title.textContent = "Order not found";
  el.status.textContent = "There is no such order among yours. If you were logged in as someone else when you bought, log in as them.";
  show(el.details, false);
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
  let failures = 0;
  for (;;) {
    const res = await getJson<Order>(`/api/orders/${encodeURIComponent(orderId)}`);
    if (res.ok) {
      failures = 0;
      show(el.unreachable, false);
      render(res.body);
      el.message.textContent = "";
      if (isSettled(res.body)) return;
    } else if (res.error === "unauthorized") {
      const session = await readSession();
      el.status.textContent = "Log in to see your order.";
      await offerLogin(session.ok ? session.body : undefined, "This order is shown to the shopper who placed it.", true);
      continue;
    } else if (res.error === "order_not_found") {
      renderNotFound();
      return;
    } else if (isUnreachable(res)) {
      failures++;
      const waitSec = retryDelaySec(failures);
      el.unreachableText.textContent = `We cannot reach the shop right now. Trying again in ${waitSec} s…`;
      show(el.unreachable, true);
      await sleep(waitSec * 1000);
      continue;
    } else {
      el.message.textContent = res.message;
    }
    await sleep(delay);
    delay = Math.min(MAX_DELAY_MS, delay * BACKOFF_FACTOR);
  }
}

async function main(): Promise<void> {
  el.id.textContent = orderId;
  el.pay.addEventListener("click", () => void pay());
  setInterval(renderPayLeft, 1000);
  showSession();
  await syncServerClock();
  await follow();
}

void main();
