/**
 * /admin/sales/<id>/orders: the sale's orders in Postgres, newest first, a page at a time
 * ("Load more" follows the API's cursor), filtered by status, searched by user id or order id;
 * the same filters download as CSV (every order). Each order shows the unit price it was
 * accepted at, which a later change of the sale's price does not touch.
 */
import { api } from "./api";
import { el, render } from "./dom";
import { count, instantElement, money } from "./format";
import { Panel } from "./panel";
import { readSale, salePath } from "./sale-record";
import type { OrderRow, OrdersPage } from "./types";

const STATUSES = ["pending", "confirmed", "paid", "expired", "failed"];
const PAGE = 100;
const COLUMNS = ["Order", "User", "Quantity", "Unit price", "Status", "Accepted at", "Paid at"];

/** `paid`: the sale takes payments (deduction other than `order`), so the row says when it was paid. */
function orderRow(o: OrderRow, paid: boolean): HTMLTableRowElement {
  return el(
    "tr",
    { "data-order": o.orderId },
    el("td", { "data-label": "Order" }, el("code", { text: o.orderId })),
    el("td", { "data-label": "User", text: o.userId }),
    el("td", { "data-label": "Quantity", class: "number", text: String(o.quantity) }),
    el("td", { "data-label": "Unit price", class: "number", text: money(o.price, o.currency) ?? `${o.price} ${o.currency}` }),
    el("td", { "data-label": "Status" }, el("span", { class: "state", "data-state": o.status, text: o.status })),
    el("td", { "data-label": "Accepted at" }, instantElement(o.acceptedAt)),
    ...(paid ? [el("td", { "data-label": "Paid at" }, o.paidAt === null ? el("span", { class: "muted", text: "not paid" }) : instantElement(o.paidAt))] : []),
  );
}

export async function ordersPage(saleId: string): Promise<void> {
  const path = salePath(saleId);
  // The name is a nicety: the orders are listed whether or not the sale's read works.
  const read = await readSale(saleId).catch(() => undefined);
  // An `order` sale takes no payment: no "Paid at" column saying "not paid" on every order.
  const paid = read?.sale.deduction !== "order";
  const params = new URLSearchParams(location.search);
  let cursor: string | null | undefined;
  let shown = 0;
  /** Bumped by a restart: a page read for the filters before it is dropped. */
  let generation = 0;

  const heading = el("h1", {}, "Orders of ", el("span", { id: "sale-name", text: read?.sale.name ?? saleId }));
  const status = el("select", { id: "orders-status", name: "status" }, el("option", { value: "", text: "any status" }), ...STATUSES.map((s) => el("option", { value: s, text: s })));
  status.value = params.get("status") ?? "";
  const search = el("input", { type: "search", id: "orders-search", name: "q", placeholder: "User id or order id", autocomplete: "off" });
  search.value = params.get("q") ?? "";
  const csv = el("a", { id: "orders-csv", class: "button", text: "Download CSV (every order)" });
  const body = el("tbody", { id: "orders-body" });
  const summary = el("p", { id: "orders-summary", role: "status" });
  const more = el("button", { type: "button", id: "orders-more", text: "Load more" });

  function filters(): URLSearchParams {
    const query = new URLSearchParams();
    if (status.value !== "") query.set("status", status.value);
    if (search.value.trim() !== "") query.set("q", search.value.trim());
    return query;
  }

  const panel = new Panel({
    id: "orders",
    what: "the orders",
    load: async () => {
      const query = filters();
      query.set("limit", String(PAGE));
      if (typeof cursor === "string") query.set("cursor", cursor);
      const started = generation;
      const page = await api<OrdersPage>("GET", `${path}/orders?${query}`);
      if (started !== generation) return;
      body.append(...page.orders.map((o) => orderRow(o, paid)));
      shown += page.orders.length;
      cursor = page.nextCursor;
      more.hidden = cursor === null;
      summary.textContent = shown === 0 ? "No order matches." : `${count(shown)} orders shown${cursor === null ? "; that is all of them" : "; more to load"}.`;
    },
  });

  /** Starts the list over with the filters as they are now. */
  function restart(): void {
    const query = filters();
    history.replaceState(null, "", query.toString() === "" ? location.pathname : `${location.pathname}?${query}`);
    csv.href = `/admin/api${path}/orders.csv${query.toString() === "" ? "" : `?${query}`}`;
    generation++;
    cursor = undefined;
    shown = 0;
    body.replaceChildren();
    summary.textContent = "";
    void panel.refresh();
  }

  const form = el(
    "form",
    { class: "filters", role: "search", id: "orders-filters" },
    el("label", { for: "orders-status", text: "Status" }),
    status,
    el("label", { for: "orders-search", text: "User or order" }),
    search,
    el("button", { type: "submit", text: "Search" }),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    restart();
  });
  status.addEventListener("change", restart);
  more.addEventListener("click", () => void panel.refresh());

  render(
    el("p", { class: "crumbs" }, el("a", { href: "/admin", text: "All sales" }), " · ", el("a", { href: `/admin${path}`, text: "Live page" })),
    heading,
    form,
    el("p", {}, csv),
    panel.status,
    summary,
    el("table", { id: "orders", class: "cards" }, el("thead", {}, el("tr", {}, ...COLUMNS.filter((c) => paid || c !== "Paid at").map((text) => el("th", { scope: "col", text })))), body),
    more,
  );
  restart();
}
