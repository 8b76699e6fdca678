/**
 * The sale list (/): every published sale, open and coming ones first and ended ones last, with
 * units left; sales that share a name are told apart by their start and id. Read again now and
 * then; a backend it cannot reach is said so and tried again sooner.
 */
import { getJson, type PublicSale, type SaleStatus } from "./api.js";
import { byId, show, sleep } from "./dom.js";
import { formatPrice, formatTime } from "./format.js";
import { orderedSales, sharedNames } from "./listing.js";
import { retryDelaySec } from "./texts.js";

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
const unreachable = byId("unreachable");
const unreachableText = byId("unreachable-text");

function item(s: PublicSale, shared: Set<string>): HTMLLIElement {
  const li = document.createElement("li");
  li.className = `sale sale--${s.status}`;
  li.dataset.saleId = s.id;
  const link = document.createElement("a");
  link.href = `/sales/${encodeURIComponent(s.id)}`;
  link.textContent = s.name;
  if (shared.has(s.name)) {
    // In the link itself, so that a list of links read out tells them apart too.
    const apart = document.createElement("span");
    apart.className = "apart";
    apart.textContent = ` (from ${formatTime(s.startsAt)}, sale ${s.id})`;
    link.append(apart);
  }
  const heading = document.createElement("h2");
  heading.append(link);
  const price = document.createElement("p");
  price.className = "price";
  price.textContent = formatPrice(s.price, s.currency);
  const badge = document.createElement("p");
  badge.className = "badge";
  badge.textContent = STATUS_LABEL[s.status];
  const when = document.createElement("p");
  when.textContent = s.status === "upcoming" ? `Starts ${formatTime(s.startsAt)}` : s.status === "ended" ? `Ran until ${formatTime(s.endsAt)}` : `Ends ${formatTime(s.endsAt)}`;
  li.append(heading, price, badge, when);
  if (s.status !== "ended") {
    const stock = document.createElement("p");
    stock.className = "stock";
    stock.textContent = s.status === "sold_out" ? `All ${s.stock.total} sold` : `${s.stock.left} of ${s.stock.total} left`;
    li.append(stock);
  }
  return li;
}

/** True when the list was read. */
async function refresh(failures: number): Promise<boolean> {
  const res = await getJson<{ sales: PublicSale[] }>("/api/sales");
  if (!res.ok) {
    unreachableText.textContent = `We cannot reach the shop right now. Trying again in ${retryDelaySec(failures + 1)} s…`;
    show(unreachable, true);
    return false;
  }
  show(unreachable, false);
  message.textContent = res.body.sales.length === 0 ? "No sales right now. Come back soon." : "";
  const shared = sharedNames(res.body.sales);
  list.replaceChildren(...orderedSales(res.body.sales).map((s) => item(s, shared)));
  list.setAttribute("aria-busy", "false");
  return true;
}

async function main(): Promise<void> {
  let failures = 0;
  for (;;) {
    failures = (await refresh(failures)) ? 0 : failures + 1;
    await sleep(failures > 0 ? retryDelaySec(failures) * 1000 : REFRESH_MS + Math.random() * 2000);
  }
}

void main();
