/** The sale list (/): every published sale, soonest first, read again now and then. */
import { getJson, type PublicSale, type SaleStatus } from "./api.js";
import { byId, sleep } from "./dom.js";
import { formatPrice, formatTime } from "./format.js";

const REFRESH_MS = 15000;

const STATUS_LABEL: Record<SaleStatus, string> = {
  upcoming: "Coming soon",
  active: "On sale now",
  paused: "Paused",
  sold_out: "Sold out",
  ended: "Ended",
};

const list = byId<HTMLUListElement>("sales");
const message = byId("message");

function item(s: PublicSale): HTMLLIElement {
  const li = document.createElement("li");
  li.className = `sale sale--${s.status}`;
  const link = document.createElement("a");
  link.href = `/sales/${encodeURIComponent(s.id)}`;
  link.textContent = s.name;
  const heading = document.createElement("h2");
  heading.append(link);
  const price = document.createElement("p");
  price.className = "price";
  price.textContent = formatPrice(s.price, s.currency);
  const badge = document.createElement("p");
  badge.className = "badge";
  badge.textContent = STATUS_LABEL[s.status];
  const when = document.createElement("p");
  when.textContent = s.status === "upcoming" ? `Starts ${formatTime(s.startsAt)}` : `Ends ${formatTime(s.endsAt)}`;
  li.append(heading, price, badge, when);
  return li;
}

async function refresh(): Promise<void> {
  const res = await getJson<{ sales: PublicSale[] }>("/api/sales");
  if (!res.ok) {
    message.textContent = `${res.message} Retrying…`;
    return;
  }
  message.textContent = res.body.sales.length === 0 ? "No sales right now. Come back soon." : "";
  list.replaceChildren(...res.body.sales.map(item));
  list.setAttribute("aria-busy", "false");
}

async function main(): Promise<void> {
  for (;;) {
    await refresh();
    await sleep(REFRESH_MS + Math.random() * 2000);
  }
}

void main();
