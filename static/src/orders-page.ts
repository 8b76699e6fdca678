/**
 * My orders (/orders): the shopper's orders in every sale (GET /api/orders), newest first, each
 * with its sale's name, the price it was bought at, quantity, status and, while it waits for its
 * payment, the time left to pay; read again now and then while any order may still change.
 */
import { getJson, isUnreachable, type Order } from "./api.js";
import { offerLogin, readSession, showSession } from "./demo-login.js";
import { byId, show, sleep } from "./dom.js";
import { formatCountdown, formatOrderPrice, formatTime } from "./format.js";
import { awaitsPayment, isSettled, saleLabel, statusText } from "./order-view.js";
import { serverNow, syncServerClock } from "./server-clock.js";
import { retryDelaySec } from "./texts.js";

/** How often the list is read again while an order may still change, ms. */
const REFRESH_MS = 10000;

const el = {
  list: byId<HTMLUListElement>("orders"),
  status: byId("orders-status"),
  unreachable: byId("unreachable"),
  unreachableText: byId("unreachable-text"),
};

let orders: Order[] = [];

function item(o: Order): HTMLLIElement {
  const li = document.createElement("li");
  li.className = `sale order order--${o.status}`;
  li.dataset.orderId = o.orderId;
  const link = document.createElement("a");
  link.href = `/orders/${encodeURIComponent(o.orderId)}`;
  link.textContent = saleLabel(o);
  const heading = document.createElement("h2");
  heading.append(link);
  const price = document.createElement("p");
  price.className = "price";
  price.textContent = o.price === undefined || o.currency === undefined ? `${o.quantity} unit${o.quantity === 1 ? "" : "s"}` : formatOrderPrice(o.price, o.currency, o.quantity);
  const status = document.createElement("p");
  status.className = "badge";
  status.textContent = statusText(o);
  const when = document.createElement("p");
  when.textContent = `Ordered ${formatTime(o.acceptedAt)} · order ${o.orderId}`;
  li.append(heading, price, status, when);
  if (awaitsPayment(o) && o.payBy !== undefined) {
    const payBy = document.createElement("p");
    payBy.className = "pay-by";
    payBy.dataset.payBy = o.payBy;
    li.append(payBy);
  }
  return li;
}

function renderPayLeft(): void {
  for (const p of el.list.querySelectorAll<HTMLElement>(".pay-by")) {
    const left = Date.parse(p.dataset.payBy ?? "") - serverNow();
    p.textContent = left > 0 ? `Pay by ${formatTime(p.dataset.payBy ?? "")}: ${formatCountdown(left)} left.` : "The time to pay has passed.";
  }
}

function render(list: Order[]): void {
  orders = list;
  el.status.textContent = list.length === 0 ? "You have no orders yet." : `${list.length} order${list.length === 1 ? "" : "s"}, newest first.`;
  el.list.replaceChildren(...list.map(item));
  el.list.setAttribute("aria-busy", "false");
  renderPayLeft();
}

async function follow(): Promise<void> {
  let failures = 0;
  for (;;) {
    const res = await getJson<{ orders: Order[] }>("/api/orders");
    if (res.ok) {
      failures = 0;
      show(el.unreachable, false);
      render(res.body.orders);
      if (orders.every(isSettled)) return;
      await sleep(REFRESH_MS);
    } else if (res.error === "unauthorized") {
      const session = await readSession();
      el.status.textContent = "Log in to see your orders.";
      await offerLogin(session.ok ? session.body : undefined, "Your orders are shown to you only.", true);
    } else if (isUnreachable(res)) {
      failures++;
      const waitSec = retryDelaySec(failures);
      el.unreachableText.textContent = `We cannot reach the shop right now. Trying again in ${waitSec} s…`;
      if (orders.length === 0) el.status.textContent = "";
      show(el.unreachable, true);
      await sleep(waitSec * 1000);
    } else {
      el.status.textContent = res.message;
      return;
    }
  }
}

async function main(): Promise<void> {
  setInterval(renderPayLeft, 1000);
  showSession();
  await syncServerClock();
  await follow();
}

void main();
